//! `arm-double`: starts the ARM test double and prints its endpoints as one JSON line.

use clap::Parser;
use dsvmpool_arm_double::{ArmDouble, Config};
use std::io::Write;
use std::path::PathBuf;

/// The ARM test double: a local HTTPS server following the Azure Resource Manager protocol,
/// for end-to-end tests. Prints one JSON line (endpoints, credentials, CA path) on stdout, then
/// serves until SIGINT/SIGTERM (or stdin closes, with --exit-on-stdin-eof).
#[derive(Parser, Debug)]
#[command(name = "arm-double", version)]
struct Args {
    /// Configuration / fault script (.json or .toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long)]
    port: Option<u16>,
    /// Real seconds per simulated second.
    #[arg(long)]
    time_scale: Option<f64>,
    /// Write the CA certificate (PEM) here (default: a file in the system temp directory).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Also write the endpoints as shell `export` lines to this file.
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Stop when standard input reaches end of file (ties the double to its parent).
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn main() {
    let args = Args::parse();
    let mut config = match &args.config {
        Some(p) => match Config::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("arm-double: {e}");
                std::process::exit(2);
            }
        },
        None => Config::default(),
    };
    if let Some(p) = args.port {
        config.port = p;
    }
    if let Some(s) = args.time_scale {
        config.time_scale = s;
    }
    config.ca_pem_path = Some(match (args.ca_out, config.ca_pem_path.take()) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            std::env::temp_dir().join(format!("arm-double-ca-{}.pem", std::process::id()))
        }
    });
    let running = match ArmDouble::start(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("arm-double: {e}");
            std::process::exit(1);
        }
    };
    let endpoints = running.endpoints();
    if let Some(path) = &args.env_file {
        let lines = [
            (
                "ARM_DOUBLE_MANAGEMENT_URL",
                endpoints.management_url.as_str(),
            ),
            ("ARM_DOUBLE_CONTROL_URL", endpoints.control_url.as_str()),
            ("ARM_DOUBLE_METRICS_URL", endpoints.metrics_url.as_str()),
            (
                "ARM_DOUBLE_CA_FILE",
                endpoints.ca_pem_path.as_deref().unwrap_or(""),
            ),
            (
                "AZURE_AUTHORITY_HOST",
                endpoints.token_authority_url.as_str(),
            ),
            ("AZURE_TENANT_ID", endpoints.tenant_id.as_str()),
            ("AZURE_CLIENT_ID", endpoints.client_id.as_str()),
            ("AZURE_CLIENT_SECRET", endpoints.client_secret.as_str()),
            ("AZURE_SUBSCRIPTION_ID", endpoints.subscription_id.as_str()),
        ];
        let text: String = lines
            .iter()
            .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
            .collect();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("arm-double: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    let mut out = std::io::stdout().lock();
    let line = serde_json::to_string(&endpoints).unwrap_or_default();
    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
        std::process::exit(1);
    }
    drop(out);

    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arm-double: {e}");
            std::process::exit(1);
        }
    };
    let exit_on_eof = args.exit_on_stdin_eof;
    rt.block_on(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("arm-double: cannot handle SIGTERM: {e}");
                    return;
                }
            };
        let stdin_closed = async {
            if exit_on_eof {
                let _ = tokio::task::spawn_blocking(|| {
                    let mut sink = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
                })
                .await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = stdin_closed => {}
        }
    });
    running.shutdown();
    // spawn_blocking reading stdin may still be running: leave without waiting for it
    std::process::exit(0);
}

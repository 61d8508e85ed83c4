//! `dsvmpool`: the command line over the dsvmpool core.
//!
//! Exit codes: 0 ok, 1 invalid spec, 2 usage (bad arguments, unreadable file, a destructive
//! verb without confirmation), 3 any other failure, 130 interrupted (Ctrl-C).

mod lifecycle;
mod progress;

use clap::{Parser, Subcommand, ValueEnum};
use dsvmpool::spec::schema::json_schema;
use dsvmpool::{Diagnostic, Error, Format, Pool, Severity};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dsvmpool",
    version,
    about = "Describe, validate, plan and deploy a shared pool of Azure Data Science VMs"
)]
struct Cli {
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum SpecFormat {
    Toml,
    Yaml,
    Json,
}

impl From<SpecFormat> for Format {
    fn from(f: SpecFormat) -> Format {
        match f {
            SpecFormat::Toml => Format::Toml,
            SpecFormat::Yaml => Format::Yaml,
            SpecFormat::Json => Format::Json,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Smb,
    Nfs,
    Windows,
}

#[derive(clap::Args)]
struct SpecArg {
    /// Pool spec file (.toml, .yaml/.yml or .json).
    file: PathBuf,
    /// Spec format, when the extension does not tell.
    #[arg(long, value_enum)]
    format: Option<SpecFormat>,
}

#[derive(Subcommand)]
enum Command {
    /// Write a commented starter spec.
    Init {
        /// Starter kind.
        #[arg(long, value_enum, default_value_t = Kind::Smb)]
        kind: Kind,
        /// Where to write it (`-` for standard output).
        #[arg(default_value = "pool.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check a spec: every problem at once, with field paths and hints.
    Validate(SpecArg),
    /// Print the spec's JSON Schema.
    Schema,
    /// Show what the pool will be: resources, addresses, autoscale, cost (with --live: what
    /// would change in the deployed pool).
    Plan {
        #[command(flatten)]
        spec: SpecArg,
        /// Compare with the deployed pool (what-if); ignores what autoscale owns.
        #[arg(long)]
        live: bool,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Deploy the pool (or update it); a rerun of an unchanged spec writes nothing, a rerun
    /// after an interruption follows the running deployment.
    Deploy {
        #[command(flatten)]
        spec: SpecArg,
        /// Deploy even when the deployed configuration is the same (e.g. after changing a
        /// secret, which cannot be compared).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Show the deployed pool: capacity, instances and power states, protection, autoscale,
    /// addresses.
    Status {
        #[command(flatten)]
        spec: SpecArg,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Set the number of instances (a concurrent change is re-read, never overwritten).
    Scale {
        #[command(flatten)]
        spec: SpecArg,
        /// Instances (0-1000).
        #[arg(value_parser = clap::value_parser!(u32).range(0..=1000))]
        capacity: u32,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Stop the pool: switch autoscale off, then deallocate every instance (disks and
    /// capacity stay; `start` brings the same instances back).
    Stop {
        #[command(flatten)]
        spec: SpecArg,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Start a stopped pool: start its instances, then switch autoscale on again.
    Start {
        #[command(flatten)]
        spec: SpecArg,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Delete the pool: its resource group when dsvmpool created it for the pool alone,
    /// otherwise only the pool's resources.
    Destroy {
        #[command(flatten)]
        spec: SpecArg,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        conn: lifecycle::ConnArgs,
    },
    /// Write the ARM template, its parameters file and the provisioning files.
    Render {
        #[command(flatten)]
        spec: SpecArg,
        /// Output directory (created if missing).
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
}

/// A failure with the exit code it maps to.
struct Fail {
    code: u8,
    error: Error,
    file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = cli.output;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            report(out, &f);
            ExitCode::from(f.code)
        }
    }
}

fn load(arg: &SpecArg) -> Result<Pool, Fail> {
    Pool::load_as(&arg.file, arg.format.map(Format::from)).map_err(|e| fail(e, Some(&arg.file)))
}

fn fail(error: Error, file: Option<&Path>) -> Fail {
    let code = match error.kind() {
        dsvmpool::ErrorKind::Validation => 1,
        dsvmpool::ErrorKind::Io => 2,
        _ => 3,
    };
    // A spec whose format cannot be told is a usage error.
    let code = match error.validation() {
        Some(v) if v.errors.iter().all(|d| d.rule == "format") => 2,
        _ => code,
    };
    Fail {
        code,
        error,
        file: file.map(Path::to_path_buf),
    }
}

fn print_json(v: &impl serde::Serialize) {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    let _ = std::io::stdout().write_all(s.as_bytes());
}

fn diag_text(file: Option<&Path>, d: &Diagnostic) -> String {
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let file = file
        .map(|f| format!("{}: ", f.display()))
        .unwrap_or_default();
    let path = if d.path.is_empty() {
        "<document>"
    } else {
        &d.path
    };
    let mut s = format!("{sev}[{}]: {file}{path}: {}", d.rule, d.message);
    if let Some(h) = &d.hint {
        s.push_str(&format!("\n  = hint: {h}"));
    }
    s
}

fn report(out: Output, f: &Fail) {
    let file = f.file.as_deref();
    if out == Output::Json {
        print_json(&serde_json::json!({
            "ok": false,
            "code": f.error.kind().code(),
            "message": f.error.to_string(),
            "file": file.map(|p| p.display().to_string()),
            "details": f.error.details(),
        }));
        return;
    }
    let mut err = std::io::stderr().lock();
    match f.error.validation() {
        Some(v) => {
            for d in v.errors.iter().chain(&v.warnings) {
                let _ = writeln!(err, "{}", diag_text(file, d));
            }
            let n = v.errors.len();
            let _ = writeln!(
                err,
                "{}: {n} error{}, {} warning{}",
                file.map(|p| p.display().to_string()).unwrap_or_default(),
                if n == 1 { "" } else { "s" },
                v.warnings.len(),
                if v.warnings.len() == 1 { "" } else { "s" }
            );
        }
        None => {
            let _ = writeln!(err, "error: {}", f.error);
        }
    }
}

fn run(cli: Cli) -> Result<(), Fail> {
    let out = cli.output;
    match cli.command {
        Command::Init { kind, path, force } => {
            let text = match kind {
                Kind::Smb => include_str!("starters/smb.toml"),
                Kind::Nfs => include_str!("starters/nfs.toml"),
                Kind::Windows => include_str!("starters/windows.toml"),
            };
            if path.as_os_str() == "-" {
                let _ = std::io::stdout().write_all(text.as_bytes());
                return Ok(());
            }
            if path.exists() && !force {
                return Err(Fail {
                    code: 2,
                    error: Error::Io {
                        path: path.display().to_string(),
                        message: "already exists (use --force to overwrite)".into(),
                    },
                    file: None,
                });
            }
            std::fs::write(&path, text).map_err(|e| fail(Error::io(&path, e), None))?;
            if out == Output::Json {
                print_json(&serde_json::json!({"ok": true, "written": path.display().to_string()}));
            } else {
                println!(
                    "wrote {}: edit it, then run `dsvmpool validate {}`",
                    path.display(),
                    path.display()
                );
            }
            Ok(())
        }
        Command::Validate(arg) => {
            let pool = load(&arg)?;
            let valid = pool.validate().map_err(|e| fail(e, Some(&arg.file)))?;
            if out == Output::Json {
                print_json(
                    &serde_json::json!({"ok": true, "file": arg.file.display().to_string(), "errors": [], "warnings": valid.warnings()}),
                );
            } else {
                for w in valid.warnings() {
                    eprintln!("{}", diag_text(Some(&arg.file), w));
                }
                println!(
                    "{}: valid ({} warning{})",
                    arg.file.display(),
                    valid.warnings().len(),
                    if valid.warnings().len() == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
        Command::Schema => {
            let _ = std::io::stdout().write_all(json_schema().as_bytes());
            Ok(())
        }
        Command::Plan {
            spec: arg,
            live: true,
            conn,
        } => lifecycle::run(out, lifecycle::Verb::PlanLive, &arg, &conn),
        Command::Deploy { spec, force, conn } => {
            lifecycle::run(out, lifecycle::Verb::Deploy { force }, &spec, &conn)
        }
        Command::Status { spec, conn } => {
            lifecycle::run(out, lifecycle::Verb::Status, &spec, &conn)
        }
        Command::Scale {
            spec,
            capacity,
            conn,
        } => lifecycle::run(out, lifecycle::Verb::Scale(capacity), &spec, &conn),
        Command::Stop { spec, yes, conn } => {
            lifecycle::run(out, lifecycle::Verb::Stop { yes }, &spec, &conn)
        }
        Command::Start { spec, conn } => lifecycle::run(out, lifecycle::Verb::Start, &spec, &conn),
        Command::Destroy { spec, yes, conn } => {
            lifecycle::run(out, lifecycle::Verb::Destroy { yes }, &spec, &conn)
        }
        Command::Plan { spec: arg, .. } => {
            let pool = load(&arg)?;
            let valid = pool.validate().map_err(|e| fail(e, Some(&arg.file)))?;
            let plan = dsvmpool::lifecycle::plan(&valid);
            if out == Output::Json {
                print_json(&plan);
            } else {
                print!("{plan}");
            }
            Ok(())
        }
        Command::Render { spec, out: dir } => render(out, &spec, &dir),
    }
}

fn render(out: Output, arg: &SpecArg, dir: &Path) -> Result<(), Fail> {
    let pool = load(arg)?;
    let valid = pool.validate().map_err(|e| fail(e, Some(&arg.file)))?;
    let artifacts = dsvmpool::render::render(&valid, &dsvmpool::render::RenderOptions::default())
        .map_err(|e| fail(e, Some(&arg.file)))?;
    let written = artifacts.write_to(dir).map_err(|e| fail(e, None))?;
    let deploy = deploy_command(&valid, dir, &artifacts.secure_parameters);
    if out == Output::Json {
        print_json(&serde_json::json!({
            "ok": true,
            "file": arg.file.display().to_string(),
            "written": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "secure_parameters": artifacts.secure_parameters,
            "deploy_command": deploy,
            "warnings": valid.warnings(),
        }));
    } else {
        for w in valid.warnings() {
            eprintln!("{}", diag_text(Some(&arg.file), w));
        }
        for p in &written {
            println!("wrote {}", p.display());
        }
        println!("deploy with the Azure CLI:\n  {deploy}");
    }
    Ok(())
}

/// The plain Azure CLI command that deploys the rendered files (secure parameters come from the
/// environment variables the spec names; their values are never printed).
fn deploy_command(
    pool: &dsvmpool::ValidPool,
    dir: &Path,
    secure: &[dsvmpool::render::SecureParameter],
) -> String {
    let mut cmd = format!(
        "az deployment group create -g {} -n {} --template-file {} --parameters @{}",
        pool.spec().resource_group,
        dsvmpool::names::ResourceNames::for_pool(pool).deployment,
        dir.join(dsvmpool::render::TEMPLATE_FILE).display(),
        dir.join(dsvmpool::render::PARAMETERS_FILE).display()
    );
    for s in secure {
        cmd.push_str(&format!(" --parameters {}=\"${}\"", s.name, s.env));
    }
    cmd
}

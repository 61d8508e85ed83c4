//! The lifecycle subcommands: `deploy`, `status`, `scale`, `stop`, `start`, `destroy` and
//! `plan --live`, and `sessions`. Each calls one core function (`dsvmpool::lifecycle`) and renders its
//! progress events and result; nothing here decides anything the bindings would need too.
//!
//! Test options (hidden from `--help`; for a local ARM test server, never needed against
//! Azure): `--management-url URL` / `DSVMPOOL_MANAGEMENT_URL` (an https management
//! endpoint), `--metrics-url URL` / `DSVMPOOL_METRICS_URL` (an https custom-metrics
//! ingestion endpoint, `{region}` for the region), `--ca-file PEM` / `DSVMPOOL_CA_FILE` (the only CA trusted), and
//! `--poll-interval-ms N` / `DSVMPOOL_POLL_INTERVAL_MS` (poll interval when the service sends no
//! `Retry-After`, and while following a deployment started earlier). An endpoint override needs
//! the test server's own credential (`AZURE_AUTHORITY_HOST` on the same host, `--auth env`);
//! core refuses it otherwise.

// `Fail` is the CLI's error shape everywhere (see `main.rs`).
#![allow(clippy::result_large_err)]

use crate::progress::Renderer;
use crate::{Fail, Output, SpecArg, fail, load, print_json};
use dsvmpool::Error;
use dsvmpool::azure::AuthMethod;
use dsvmpool::lifecycle::{self, ConnectOptions, DeployAction, DeployOptions, PoolOutputs};
use serde::Serialize;
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn parse_auth(s: &str) -> Result<AuthMethod, String> {
    s.parse::<AuthMethod>().map_err(|e| match e.validation() {
        Some(v) => v
            .errors
            .iter()
            .map(|d| {
                format!(
                    "{}{}",
                    d.message,
                    d.hint
                        .as_deref()
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => e.to_string(),
    })
}

/// How to reach Resource Manager.
#[derive(clap::Args, Clone, Debug)]
pub struct ConnArgs {
    /// Credential: auto (environment, workload identity, managed identity, Azure CLI), env,
    /// workload-identity, managed-identity or azure-cli.
    #[arg(long, default_value = "auto", value_parser = parse_auth)]
    pub auth: AuthMethod,
    /// Subscription id (default: the spec's `subscription`, else AZURE_SUBSCRIPTION_ID).
    #[arg(long)]
    pub subscription: Option<String>,
    /// Test option: https management endpoint of a local ARM test server
    /// (DSVMPOOL_MANAGEMENT_URL).
    #[arg(long, hide = true)]
    pub management_url: Option<String>,
    /// Test option: https custom-metrics ingestion endpoint of a local test server, `{region}`
    /// for the region (DSVMPOOL_METRICS_URL).
    #[arg(long, hide = true)]
    pub metrics_url: Option<String>,
    /// Test option: trust only this CA certificate (PEM) (DSVMPOOL_CA_FILE).
    #[arg(long, hide = true)]
    pub ca_file: Option<PathBuf>,
    /// Test option: poll interval in milliseconds when the service sends no Retry-After.
    #[arg(long, hide = true, env = "DSVMPOOL_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<u64>,
}

/// A lifecycle verb.
pub enum Verb {
    /// Deploy or update.
    Deploy {
        /// Deploy even when nothing changed.
        force: bool,
    },
    /// Live state.
    Status,
    /// Set the capacity.
    Scale(u32),
    /// Autoscale off, instances deallocated.
    Stop {
        /// Skip confirmation.
        yes: bool,
    },
    /// Instances started, autoscale on.
    Start,
    /// Delete the pool.
    Destroy {
        /// Skip confirmation.
        yes: bool,
    },
    /// Drift-aware plan.
    PlanLive,
    /// Publish the session metrics.
    Sessions {
        /// Sessions in use.
        active: u32,
        /// Sessions waiting.
        waiting: u32,
        /// Time the counts are for (default: now).
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// Parses `--at` (RFC 3339, any offset; kept in UTC).
pub fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time (e.g. 2025-03-04T10:42:00Z): {e}"))
}

fn usage(verb: &str, message: String) -> Fail {
    Fail {
        code: 2,
        error: Error::Io {
            path: verb.into(),
            message,
        },
        file: None,
        quiet: false,
    }
}

/// Asks for confirmation of a destructive verb: only when standard input is a terminal and
/// `--yes` is absent; without a terminal and without `--yes`, refuses (exit 2).
fn confirm(yes: bool, verb: &str, question: &str) -> Result<(), Fail> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            verb,
            "refusing without confirmation: standard input is not a terminal (pass --yes)".into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(usage(verb, "not confirmed, nothing done".into())),
    }
}

fn with_ok<T: Serialize>(command: &str, v: &T) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("ok".into(), true.into());
        o.insert("command".into(), command.into());
    }
    j
}

fn outputs_text(o: &PoolOutputs) -> String {
    let mut s = String::new();
    for (label, v) in [
        ("FQDN", &o.fqdn),
        ("Public IP", &o.public_ip),
        ("JupyterHub", &o.jupyterhub_url),
        ("SSH", &o.ssh_command),
        ("RDP", &o.rdp_address),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("  {label:<12} {v}\n"));
        }
    }
    if let Some(p) = &o.instance_ssh_ports {
        let how = if o.ssh_command.is_some() {
            "ssh -p <port> …"
        } else {
            "remote desktop to <address>:<port>"
        };
        s.push_str(&format!("  {:<12} {how} on ports {p}\n", "One instance"));
    }
    if let (Some(sh), Some(m)) = (&o.share, &o.mount_path) {
        s.push_str(&format!("  {:<12} {sh} → {m}\n", "Workspace"));
    }
    s
}

enum Ended<T> {
    Done(T),
    Interrupted,
}

fn run_async<T>(fut: impl Future<Output = dsvmpool::Result<T>>) -> Result<Ended<T>, Fail> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            fail(
                Error::Internal(format!("cannot start the async runtime: {e}")),
                None,
            )
        })?;
    rt.block_on(async {
        tokio::select! {
            r = fut => r.map(Ended::Done).map_err(|e| fail(e, None)),
            _ = tokio::signal::ctrl_c() => Ok(Ended::Interrupted),
        }
    })
}

/// Runs a lifecycle verb.
pub fn run(out: Output, verb: Verb, arg: &SpecArg, conn: &ConnArgs) -> Result<(), Fail> {
    let pool = load(arg)?;
    let valid = pool.validate().map_err(|e| fail(e, Some(&arg.file)))?;
    if out == Output::Text {
        for w in valid.warnings() {
            eprintln!("{}", crate::diag_text(Some(&arg.file), w));
        }
    }
    let renderer = Arc::new(Mutex::new(Renderer::new()));
    let sink = Renderer::sink(&renderer);
    let poll = conn.poll_interval_ms.map(Duration::from_millis);
    let options = ConnectOptions {
        auth: conn.auth,
        subscription_id: conn.subscription.clone(),
        management_url: conn.management_url.clone(),
        metrics_url: conn.metrics_url.clone(),
        ca_file: conn.ca_file.clone(),
        poll_interval: poll,
        progress: Some(sink.clone()),
        ..Default::default()
    };
    let client = lifecycle::connect(&valid, &options).map_err(|e| fail(e, None))?;
    let finish = || {
        if let Ok(mut r) = renderer.lock() {
            r.finish();
        }
    };
    let interrupted = |what: &str| {
        finish();
        eprintln!("interrupted: {what}");
        if out == Output::Json {
            print_json(&serde_json::json!({
                "ok": false,
                "code": "INTERRUPTED",
                "message": format!("interrupted: {what}"),
            }));
        }
        Err(Fail {
            code: 130,
            error: Error::Internal("interrupted".into()),
            file: None,
            quiet: true,
        })
    };
    let file = arg.file.display().to_string();
    match verb {
        Verb::Deploy { force } => {
            let mut opts = DeployOptions {
                progress: Some(sink),
                force,
                ..Default::default()
            };
            if let Some(p) = poll {
                opts.reattach_poll_interval = p;
            }
            let r = run_async(lifecycle::deploy(&client, &valid, &opts));
            finish();
            let o = match r? {
                Ended::Done(o) => o,
                Ended::Interrupted => {
                    return interrupted(&format!(
                        "a deployment already submitted goes on without this command; run \
                         `dsvmpool deploy {file}` again to follow it"
                    ));
                }
            };
            if out == Output::Json {
                print_json(&with_ok("deploy", &o));
            } else {
                let what = match o.action {
                    DeployAction::Created => "created",
                    DeployAction::Updated => "updated",
                    DeployAction::Unchanged => "up to date, nothing deployed",
                };
                println!(
                    "Pool `{}` {what} (resource group {}, deployment {}: {})",
                    o.pool, o.resource_group, o.deployment, o.state
                );
                print!("{}", outputs_text(&o.outputs));
            }
            Ok(())
        }
        Verb::Status => {
            let r = run_async(lifecycle::status(&client, &valid));
            finish();
            let Ended::Done(s) = r? else {
                return interrupted("nothing was changed");
            };
            if out == Output::Json {
                print_json(&with_ok("status", &s));
            } else {
                print!("{s}");
            }
            Ok(())
        }
        Verb::Scale(n) => {
            let r = run_async(lifecycle::scale(&client, &valid, n, Some(sink)));
            finish();
            let Ended::Done(s) = r? else {
                return interrupted(
                    "a capacity change already sent goes on; `dsvmpool status` shows it",
                );
            };
            if out == Output::Json {
                print_json(&with_ok("scale", &s));
            } else if s.changed {
                println!(
                    "Scale set {}: capacity {} → {}{}",
                    s.scale_set,
                    s.from,
                    s.to,
                    if s.conflicts > 0 {
                        format!(
                            " (after {} concurrent change{})",
                            s.conflicts,
                            if s.conflicts == 1 { "" } else { "s" }
                        )
                    } else {
                        String::new()
                    }
                );
            } else {
                println!("Scale set {}: capacity is already {}", s.scale_set, s.to);
            }
            Ok(())
        }
        Verb::Stop { yes } => {
            confirm(
                yes,
                "stop",
                &format!(
                    "Stop pool `{}`: switch autoscale off and deallocate every instance (running \
                     sessions end)?",
                    valid.name()
                ),
            )?;
            let r = run_async(lifecycle::stop(&client, &valid, Some(sink)));
            finish();
            let Ended::Done(s) = r? else {
                return interrupted("run `dsvmpool stop` again to finish");
            };
            if out == Output::Json {
                print_json(&with_ok("stop", &s));
            } else if s.changed {
                println!(
                    "Pool `{}` stopped: {} instance(s) deallocated{}{}",
                    s.pool,
                    s.deallocated.len(),
                    if s.autoscale_disabled {
                        ", autoscale switched off"
                    } else {
                        ""
                    },
                    if s.protected.is_empty() {
                        String::new()
                    } else {
                        format!("; {} protected instance(s) left running", s.protected.len())
                    }
                );
                println!("  `dsvmpool start {file}` brings the same instances back");
            } else {
                println!("Pool `{}` is already stopped", s.pool);
            }
            Ok(())
        }
        Verb::Start => {
            let r = run_async(lifecycle::start(&client, &valid, Some(sink)));
            finish();
            let Ended::Done(s) = r? else {
                return interrupted("run `dsvmpool start` again to finish");
            };
            if out == Output::Json {
                print_json(&with_ok("start", &s));
            } else if s.changed {
                println!(
                    "Pool `{}` started: {} instance(s) started{}",
                    s.pool,
                    s.started.len(),
                    if s.autoscale_enabled {
                        ", autoscale switched on"
                    } else {
                        ""
                    }
                );
            } else {
                println!("Pool `{}` is already running", s.pool);
            }
            Ok(())
        }
        Verb::Destroy { yes } => {
            let plan = match run_async(lifecycle::destroy_preview(&client, &valid))? {
                Ended::Done(p) => p,
                Ended::Interrupted => return interrupted("nothing was deleted"),
            };
            if !plan.exists {
                finish();
                if out == Output::Json {
                    print_json(&with_ok(
                        "destroy",
                        &lifecycle::DestroyOutcome {
                            plan,
                            deleted: vec![],
                        },
                    ));
                } else {
                    print!("{plan}");
                }
                return Ok(());
            }
            if out == Output::Text || !yes {
                eprint!("{plan}");
            }
            confirm(yes, "destroy", "Delete all of this?")?;
            let r = run_async(lifecycle::destroy(&client, &valid, Some(sink)));
            finish();
            let Ended::Done(d) = r? else {
                return interrupted("deletions already sent go on; run `dsvmpool destroy` again");
            };
            if out == Output::Json {
                print_json(&with_ok("destroy", &d));
            } else {
                println!(
                    "Pool `{}` destroyed ({} deleted)",
                    d.plan.pool,
                    if d.plan.delete_group {
                        format!("resource group {}", d.plan.resource_group)
                    } else {
                        format!("{} resource(s)", d.deleted.len())
                    }
                );
            }
            Ok(())
        }
        Verb::Sessions {
            active,
            waiting,
            at,
        } => {
            let at = at.unwrap_or_else(|| chrono::DateTime::from(std::time::SystemTime::now()));
            let r = run_async(lifecycle::publish_sessions(
                &client, &valid, active, waiting, at,
            ));
            finish();
            let Ended::Done(p) = r? else {
                return interrupted("values already sent stay published");
            };
            if out == Output::Json {
                print_json(&with_ok("sessions", &p));
            } else {
                print!("{p}");
            }
            Ok(())
        }
        Verb::PlanLive => {
            let r = run_async(lifecycle::plan_live(
                &client,
                &valid,
                &lifecycle::PlanOptions::default(),
            ));
            finish();
            let Ended::Done(p) = r? else {
                return interrupted("nothing was changed");
            };
            if out == Output::Json {
                print_json(&p);
            } else {
                print!("{p}");
            }
            Ok(())
        }
    }
}

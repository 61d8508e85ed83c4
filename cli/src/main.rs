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
    /// Publish the session metrics `autoscale.sessions` scales on (active + waiting, and
    /// waiting) for the current minute; call it once a minute from whatever fronts the pool.
    /// The identity needs the "Monitoring Metrics Publisher" role on the scale set.
    Sessions {
        #[command(flatten)]
        spec: SpecArg,
        /// Sessions in use.
        #[arg(long)]
        active: u32,
        /// Sessions waiting for an instance.
        #[arg(long, default_value_t = 0)]
        waiting: u32,
        /// The time the counts are for (RFC 3339, e.g. 2025-03-04T10:42:00Z; default: now);
        /// the values are for the minute it falls in.
        #[arg(long, value_parser = lifecycle::parse_time)]
        at: Option<chrono::DateTime<chrono::Utc>>,
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
        /// Mount the share from this host instead of the spec's storage host (a private
        /// endpoint's DNS name or address; the guest suite's stand-in servers).
        #[arg(long, value_name = "HOST")]
        share_host: Option<String>,
    },
    /// Check what the autoscale settings will do: flapping, scale from zero, profile windows,
    /// budget. Exits 1 when a finding is an error.
    Lint {
        #[command(flatten)]
        spec: SpecArg,
        /// Instance boot time, for the cooldown check (e.g. `5m`). Default 5 min (Windows 10).
        #[arg(long)]
        boot_time: Option<String>,
    },
    /// Simulate a team using the pool: cost, waits, refused and killed sessions.
    Simulate(SimulateArgs),
}

#[derive(clap::Args)]
struct SimulateArgs {
    #[command(flatten)]
    spec: SpecArg,
    /// Session trace (CSV `user,start,duration,cpu` or JSON).
    #[arg(
        long,
        required_unless_present = "synthetic",
        conflicts_with = "synthetic"
    )]
    trace: Option<PathBuf>,
    /// Generate a synthetic team of this many users instead of reading a trace.
    #[arg(long)]
    synthetic: Option<u32>,
    /// Synthetic team: days to generate.
    #[arg(long, default_value_t = 28)]
    days: u32,
    /// Synthetic team: first day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-01-05")]
    start_date: String,
    /// Synthetic team: time zone (default: the working hours' zone, else UTC).
    #[arg(long)]
    time_zone: Option<String>,
    /// Synthetic team: random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the trace used to this CSV file.
    #[arg(long)]
    save_trace: Option<PathBuf>,
    /// Compare policies side by side (fixed, cpu, spec, sessions; all when no list is given).
    #[arg(long, num_args = 0..=1, default_missing_value = "fixed,cpu,spec,sessions", value_delimiter = ',')]
    compare: Option<Vec<String>>,
    /// Write plots (instances vs users, cost per day) to this .svg or .png file (repeatable).
    #[arg(long)]
    plot: Vec<PathBuf>,
    /// Seconds between autoscale runs.
    #[arg(long, default_value_t = 60)]
    eval_interval: i64,
    /// Instance boot time (e.g. `5m`).
    #[arg(long, default_value = "5m")]
    boot_time: String,
    /// How long a user waits for an instance before giving up (e.g. `15m`).
    #[arg(long, default_value = "15m")]
    patience: String,
    /// Instances with sessions are protected from scale-in.
    #[arg(long)]
    protect_busy: bool,
    /// Sessions per instance of the `sessions` policy when the spec sets none.
    #[arg(long, default_value_t = 4)]
    session_target: u32,
    /// Instances of the `fixed` reference pool (default: capacity.max).
    #[arg(long)]
    fixed_instances: Option<u32>,
    /// Timeline resolution (e.g. `1h`).
    #[arg(long, default_value = "1h")]
    timeline_step: String,
}

fn seconds(flag: &str, v: &str) -> Result<i64, Fail> {
    dsvmpool::spec::values::parse_duration(v)
        .filter(|s| *s > 0)
        .map(|s| s as i64)
        .ok_or_else(|| Fail {
            code: 2,
            quiet: false,
            error: Error::invalid(Diagnostic::error(
                flag,
                "duration",
                format!("`{v}` is not a duration (e.g. `5m`, `PT5M`)"),
            )),
            file: None,
        })
}

/// A failure with the exit code it maps to.
struct Fail {
    code: u8,
    error: Error,
    file: Option<PathBuf>,
    /// Already reported on standard output.
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = cli.output;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.quiet {
                report(out, &f);
            }
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
        quiet: false,
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
                    quiet: false,
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
        Command::Sessions {
            spec,
            active,
            waiting,
            at,
            conn,
        } => lifecycle::run(
            out,
            lifecycle::Verb::Sessions {
                active,
                waiting,
                at,
            },
            &spec,
            &conn,
        ),
        Command::Destroy { spec, yes, conn } => {
            lifecycle::run(out, lifecycle::Verb::Destroy { yes }, &spec, &conn)
        }
        Command::Lint { spec, boot_time } => {
            let pool = load(&spec)?;
            let valid = pool.validate().map_err(|e| fail(e, Some(&spec.file)))?;
            let boot = boot_time
                .as_deref()
                .map(|b| seconds("--boot-time", b))
                .transpose()?;
            let findings = dsvmpool::autoscale::lint(
                &valid,
                &dsvmpool::autoscale::LintOptions { boot_time: boot },
            );
            let errors = dsvmpool::autoscale::lint::has_errors(&findings);
            if out == Output::Json {
                print_json(&serde_json::json!({
                    "ok": !errors,
                    "file": spec.file.display().to_string(),
                    "findings": findings,
                }));
            } else {
                for d in &findings {
                    println!("{}", diag_text(Some(&spec.file), d));
                }
                let n_err = findings
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                println!(
                    "{}: {n_err} error{}, {} warning{}",
                    spec.file.display(),
                    if n_err == 1 { "" } else { "s" },
                    findings.len() - n_err,
                    if findings.len() - n_err == 1 { "" } else { "s" }
                );
            }
            if errors {
                return Err(Fail {
                    code: 1,
                    error: Error::invalid(Diagnostic::error("", "lint", "lint found errors")),
                    file: None,
                    quiet: true,
                });
            }
            Ok(())
        }
        Command::Simulate(a) => simulate(out, a),
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
        Command::Render {
            spec,
            out: dir,
            share_host,
        } => render(out, &spec, &dir, share_host.as_deref()),
    }
}

fn render(out: Output, arg: &SpecArg, dir: &Path, share_host: Option<&str>) -> Result<(), Fail> {
    let pool = load(arg)?;
    let valid = pool.validate().map_err(|e| fail(e, Some(&arg.file)))?;
    let mut opts = dsvmpool::render::RenderOptions::default();
    if let Some(h) = share_host {
        opts = opts.share_host(h);
    }
    let artifacts =
        dsvmpool::render::render(&valid, &opts).map_err(|e| fail(e, Some(&arg.file)))?;
    let written = artifacts.write_to(dir).map_err(|e| fail(e, None))?;
    let deploy = artifacts.deploy_command(dir);
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

fn simulate(out: Output, a: SimulateArgs) -> Result<(), Fail> {
    use dsvmpool::sim;
    let pool = load(&a.spec)?;
    let valid = pool.validate().map_err(|e| fail(e, Some(&a.spec.file)))?;
    let trace = match (&a.trace, a.synthetic) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| fail(Error::io(path, e), None))?;
            sim::Trace::parse(&text).map_err(|e| fail(e, Some(path)))?
        }
        (None, Some(users)) => {
            let tz = a.time_zone.clone().unwrap_or_else(|| {
                valid
                    .spec()
                    .autoscale
                    .scale_to_zero
                    .as_ref()
                    .map_or_else(|| "UTC".to_string(), |z| z.time_zone.clone())
            });
            sim::generate(&sim::Team {
                users,
                days: a.days,
                start_date: a.start_date.clone(),
                time_zone: tz,
                seed: a.seed,
                ..sim::Team::default()
            })
            .map_err(|e| fail(e, None))?
        }
        (None, None) => unreachable!("clap requires --trace or --synthetic"),
    };
    if let Some(path) = &a.save_trace {
        std::fs::write(path, trace.to_csv()).map_err(|e| fail(Error::io(path, e), None))?;
    }
    let opts = sim::SimOptions {
        eval_interval: a.eval_interval.max(1),
        boot_time: seconds("--boot-time", &a.boot_time)?,
        patience: seconds("--patience", &a.patience)?,
        protect_busy: a.protect_busy,
        session_target: a.session_target,
        fixed_instances: a.fixed_instances,
        timeline_step: seconds("--timeline-step", &a.timeline_step)?,
        ..sim::SimOptions::default()
    };
    let policies = match &a.compare {
        None => vec![sim::Policy::Spec],
        Some(names) => names
            .iter()
            .map(|n| {
                sim::Policy::from_name(n).ok_or_else(|| Fail {
                    code: 2,
                    error: Error::invalid(Diagnostic::error(
                        "--compare",
                        "policy",
                        format!("`{n}` is not a policy (fixed, cpu, spec, sessions)"),
                    )),
                    file: None,
                    quiet: false,
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let t0 = std::time::Instant::now();
    let reports = sim::compare(&valid, &policies, &trace, &opts);
    let elapsed = t0.elapsed().as_secs_f64();
    for p in &a.plot {
        sim::write_plot(p, &reports).map_err(|e| fail(e, None))?;
    }
    if out == Output::Json {
        if a.compare.is_some() {
            print_json(&serde_json::json!({"reports": reports, "elapsed_s": elapsed}));
        } else {
            print_json(&reports[0]);
        }
    } else {
        let r = &reports[0];
        println!(
            "{} sessions from {} to {} ({:.0} days)",
            trace.sessions.len(),
            r.start,
            r.end,
            r.days
        );
        print!("{}", sim::comparison_table(&reports));
        for p in &a.plot {
            println!("wrote {}", p.display());
        }
    }
    Ok(())
}

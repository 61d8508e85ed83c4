//! Write the provisioning a pool spec renders to: `cargo run -p dsvmpool --example
//! render_provisioning -- SPEC OUT_DIR [--share-host HOST]`.
//!
//! `OUT_DIR/user-data` (Linux) or `OUT_DIR/provision.ps1` (Windows), and every file the user
//! data installs under `OUT_DIR/files/` (for shellcheck and review). `--share-host` overrides
//! the share endpoint ([`dsvmpool::render::ProvisionOptions::share_host`]).

use dsvmpool::Pool;
use dsvmpool::render::{ProvisionOptions, render_cloud_init};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut positional, mut host) = (vec![], None);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--share-host" {
            host = it.next();
        } else {
            positional.push(a);
        }
    }
    let [spec, out] = positional.as_slice() else {
        eprintln!("usage: render_provisioning SPEC OUT_DIR [--share-host HOST]");
        return ExitCode::from(2);
    };
    match run(spec, &PathBuf::from(out), host) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(v) = e.validation() {
                eprintln!("{v}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(spec: &str, out: &std::path::Path, host: Option<String>) -> dsvmpool::Result<()> {
    let pool = Pool::load(spec)?.validate()?;
    let opts = match host {
        Some(h) => ProvisionOptions::with_share_host(h),
        None => ProvisionOptions::default(),
    };
    let art = render_cloud_init(&pool, &opts)?;
    let write = |path: PathBuf, text: &str| {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| dsvmpool::Error::io(dir, e))?;
        }
        std::fs::write(&path, text).map_err(|e| dsvmpool::Error::io(&path, e))
    };
    if let Some(ud) = &art.user_data {
        write(out.join("user-data"), ud)?;
    }
    for f in &art.files {
        write(
            out.join("files").join(f.path.trim_start_matches('/')),
            &f.content,
        )?;
    }
    if let Some(ps) = &art.powershell {
        write(out.join("provision.ps1"), ps)?;
    }
    if let Some(kd) = &art.key_delivery {
        // with a dummy key, for shellcheck
        write(
            out.join("key-delivery.sh"),
            &kd.with_key("ZXhhbXBsZSBzdG9yYWdlIGFjY291bnQga2V5OiBzaXh0eS1mb3VyIGJ5dGVzLCBpbGx1c3RyYXRpb24gb25seQ==")?,
        )?;
    }
    Ok(())
}

//! Render a [`ValidPool`] into what Azure deploys: an ARM template, its parameters file and the
//! provisioning files the instances run.
//!
//! ```
//! use dsvmpool::render::{render, RenderOptions};
//! let pool = dsvmpool::Pool::from_toml(r#"
//!     name = "team"
//!     location = "westeurope"
//!     resource_group = "rg-team"
//!     [access]
//!     ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
//!     source_cidrs = ["203.0.113.0/24"]
//! "#)?.validate()?;
//! let out = render(&pool, &RenderOptions::default())?;
//! assert_eq!(out.template["resources"].as_array().map(|r| r.len()), Some(10));
//! assert!(out.template_json().contains("Microsoft.Compute/virtualMachineScaleSets"));
//! # Ok::<(), dsvmpool::Error>(())
//! ```
//!
//! Rendering is pure and deterministic: the same pool gives byte-identical files. It reads no
//! environment and no secret: secrets stay references (secure parameters the deploy command
//! fills from the environment, Key Vault references in the parameters file, or `listKeys` inside
//! the template that only reaches `protectedSettings`).

pub mod arm;
pub mod cloud_init;
pub mod mount;
pub mod params;

use crate::error::{Error, Result};
use crate::names::ResourceNames;
use crate::spec::ValidPool;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use cloud_init::{
    KeyDelivery, ProvisionFile, ProvisionOptions, ProvisioningArtifacts, check_storage_key,
    render_cloud_init,
};
pub use params::SecureParameter;

/// Name of the rendered template file.
pub const TEMPLATE_FILE: &str = "azuredeploy.json";
/// Name of the rendered parameters file.
pub const PARAMETERS_FILE: &str = "azuredeploy.parameters.json";

/// Options of [`render`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Put `metadata._generator` (dsvmpool and its version) into the template. Default true.
    pub generator_metadata: bool,
    /// `forceUpdateTag` of the scale set's extensions: change it to run them again on every
    /// instance. Default: none.
    pub force_update_tag: Option<String>,
    /// Mount the share from this host instead of the spec's storage host (see
    /// [`ProvisionOptions::share_host`]): a private endpoint's DNS name, or a test's stand-in
    /// server. Default: none.
    pub share_host: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            generator_metadata: true,
            force_update_tag: None,
            share_host: None,
        }
    }
}

impl RenderOptions {
    /// Set [`RenderOptions::generator_metadata`].
    #[must_use]
    pub fn generator_metadata(mut self, on: bool) -> Self {
        self.generator_metadata = on;
        self
    }
    /// Set [`RenderOptions::force_update_tag`].
    #[must_use]
    pub fn force_update_tag(mut self, tag: impl Into<String>) -> Self {
        self.force_update_tag = Some(tag.into());
        self
    }
    /// Set [`RenderOptions::share_host`].
    #[must_use]
    pub fn share_host(mut self, host: impl Into<String>) -> Self {
        self.share_host = Some(host.into());
        self
    }
}

/// One provisioning file (cloud-init user data, a script).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactFile {
    /// Path relative to the output directory, `/`-separated.
    pub path: String,
    /// What the file is for, in one line.
    pub description: String,
    /// The content (never a secret).
    pub content: String,
}

/// Everything [`render`] produces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Artifacts {
    /// The ARM template (`azuredeploy.json`).
    pub template: serde_json::Value,
    /// The parameters file (`azuredeploy.parameters.json`).
    pub parameters: serde_json::Value,
    /// The cloud-init user data of Linux instances (also one of [`Artifacts::files`]).
    pub user_data: Option<String>,
    /// Provisioning files, written next to the template.
    pub files: Vec<ArtifactFile>,
    /// Secure parameters that neither the template nor the parameters file holds: the deploy
    /// command fills each from its environment variable
    /// (`az deployment group create ... --parameters NAME="$ENV"`).
    pub secure_parameters: Vec<SecureParameter>,
    /// The resource names used.
    pub names: ResourceNames,
    /// The resource group the template deploys into.
    pub resource_group: String,
}

impl Artifacts {
    /// The template as pretty JSON with a final newline (what `azuredeploy.json` holds).
    pub fn template_json(&self) -> String {
        to_pretty(&self.template)
    }

    /// The parameters file as pretty JSON with a final newline.
    pub fn parameters_json(&self) -> String {
        to_pretty(&self.parameters)
    }

    /// The plain Azure CLI command that deploys the files once written into `dir` (paths quoted
    /// for a POSIX shell when they need it). Each secure parameter is filled from its
    /// environment variable (`NAME="$ENV"`): the command holds no secret value.
    ///
    /// ```
    /// # let pool = dsvmpool::Pool::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/team.toml"))?.validate()?;
    /// let a = dsvmpool::render::render(&pool, &Default::default())?;
    /// let cmd = a.deploy_command("out");
    /// assert!(cmd.starts_with("az deployment group create -g rg-team-pool -n "));
    /// assert!(cmd.contains("--template-file out/azuredeploy.json --parameters @out/azuredeploy.parameters.json"));
    /// # Ok::<(), dsvmpool::Error>(())
    /// ```
    pub fn deploy_command(&self, dir: impl AsRef<Path>) -> String {
        let dir = dir.as_ref();
        let word = |s: String| {
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c))
            {
                s
            } else {
                mount::sh_quote(&s)
            }
        };
        let mut cmd = format!(
            "az deployment group create -g {} -n {} --template-file {} --parameters {}",
            word(self.resource_group.clone()),
            word(self.names.deployment.clone()),
            word(dir.join(TEMPLATE_FILE).display().to_string()),
            word(format!("@{}", dir.join(PARAMETERS_FILE).display()))
        );
        for s in &self.secure_parameters {
            cmd.push_str(&format!(" --parameters {}=\"${}\"", s.name, s.env));
        }
        cmd
    }

    /// Every output file: (relative path, content), template and parameters first.
    pub fn all_files(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (TEMPLATE_FILE.to_string(), self.template_json()),
            (PARAMETERS_FILE.to_string(), self.parameters_json()),
        ];
        v.extend(
            self.files
                .iter()
                .map(|f| (f.path.clone(), f.content.clone())),
        );
        v
    }

    /// Write every file into `dir` (created if missing). Each file is written to a temporary
    /// name first and renamed once all are written, so a failure leaves no half-written set.
    /// Returns the paths written.
    pub fn write_to(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let files = self.all_files();
        let mut staged = Vec::with_capacity(files.len());
        let cleanup = |staged: &[(PathBuf, PathBuf)]| {
            for (tmp, _) in staged {
                let _ = std::fs::remove_file(tmp);
            }
        };
        for (rel, content) in &files {
            let dest = dir.join(rel);
            if let Some(parent) = dest.parent()
                && let Err(e) = std::fs::create_dir_all(parent)
            {
                cleanup(&staged);
                return Err(Error::io(parent, e));
            }
            let mut tmp = dest.clone().into_os_string();
            tmp.push(".dsvmpool-tmp");
            let tmp = PathBuf::from(tmp);
            if let Err(e) = std::fs::write(&tmp, content) {
                cleanup(&staged);
                return Err(Error::io(&tmp, e));
            }
            staged.push((tmp, dest));
        }
        let mut written = Vec::with_capacity(staged.len());
        for (i, (tmp, dest)) in staged.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, dest) {
                cleanup(&staged[i..]);
                return Err(Error::io(dest, e));
            }
            written.push(dest.clone());
        }
        Ok(written)
    }
}

fn to_pretty(v: &serde_json::Value) -> String {
    // Serializing a `Value` cannot fail.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Directory of the rendered output that mirrors the files the user data writes on an instance.
pub const INSTANCE_DIR: &str = "instance";

/// The provisioning of a pool's instances: exactly what [`render_cloud_init`] renders (the
/// provisioning the guest suite boots); the template embeds it as it is.
fn provisioning(pool: &ValidPool, opts: &RenderOptions) -> Result<ProvisioningArtifacts> {
    let popts = ProvisionOptions {
        share_host: opts.share_host.clone(),
    };
    cloud_init::render_unchecked(pool, &popts)
}

/// The provisioning files written next to the template, for review: the PowerShell script
/// (Windows) or the user data and, under [`INSTANCE_DIR`], every file it writes (Linux).
fn review_files(prov: &ProvisioningArtifacts) -> Vec<ArtifactFile> {
    let mut files = Vec::new();
    if let Some(ps) = &prov.powershell {
        files.push(ArtifactFile {
            path: "provision.ps1".into(),
            description: "PowerShell the Custom Script extension runs on every Windows instance"
                .into(),
            content: ps.clone(),
        });
    }
    if let Some(ud) = &prov.user_data {
        files.push(ArtifactFile {
            path: "cloud-init.yaml".into(),
            description: "cloud-init user data of every Linux instance (customData)".into(),
            content: ud.clone(),
        });
        for f in &prov.files {
            files.push(ArtifactFile {
                path: format!("{INSTANCE_DIR}{}", f.path),
                description: format!(
                    "{} on every instance (mode {}; written by the user data, for review)",
                    f.path, f.permissions
                ),
                content: f.content.clone(),
            });
        }
    }
    files
}

/// Resource group of the pool's storage account.
pub(crate) fn storage_resource_group(pool: &ValidPool) -> &str {
    let s = pool.spec();
    s.storage
        .account
        .resource_group
        .as_deref()
        .unwrap_or(&s.resource_group)
}

/// What Azure would reject although the spec is valid.
fn check(pool: &ValidPool, prov: &ProvisioningArtifacts) -> Result<()> {
    let s = pool.spec();
    if !pool.is_windows() && s.access.ssh_keys.is_empty() && !params::linux_password(pool) {
        return Err(Error::Render(
            "Azure needs an SSH key or a password for the admin user of a Linux pool: \
             add access.ssh_keys (or access.password)"
                .into(),
        ));
    }
    if let Some(ud) = &prov.user_data
        && ud.len() > cloud_init::MAX_USER_DATA
    {
        return Err(Error::Render(format!(
            "the cloud-init user data is {} bytes; Azure accepts at most {} in `customData`: \
             let users sign in with Entra ID (identity.entra_id_login) instead of per-user SSH keys",
            ud.len(),
            cloud_init::MAX_USER_DATA
        )));
    }
    Ok(())
}

/// The template alone, without the checks [`render`] makes (the plan lists its resources and
/// reports a failed check as a warning).
pub(crate) fn template_for_plan(pool: &ValidPool) -> Result<(serde_json::Value, Option<Error>)> {
    let names = ResourceNames::for_pool(pool);
    let prov = provisioning(pool, &RenderOptions::default())?;
    let params = params::parameters(pool);
    let problem = check(pool, &prov).err();
    let template = arm::template(pool, &RenderOptions::default(), &names, &params, &prov);
    Ok((template, problem))
}

/// Render a pool: template, parameters file and provisioning files.
pub fn render(pool: &ValidPool, opts: &RenderOptions) -> Result<Artifacts> {
    let names = ResourceNames::for_pool(pool);
    let prov = provisioning(pool, opts)?;
    check(pool, &prov)?;
    let params = params::parameters(pool);
    let template = arm::template(pool, opts, &names, &params, &prov);
    let parameters = params::parameters_file(&params);
    Ok(Artifacts {
        template,
        parameters,
        files: review_files(&prov),
        user_data: prov.user_data,
        secure_parameters: params::secure_parameters(&params),
        names,
        resource_group: pool.spec().resource_group.clone(),
    })
}

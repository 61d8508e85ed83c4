//! Configuration: identities, time scale, behaviour switches, latencies, throttling and the
//! initial fault script. Loadable from JSON or TOML; every field has a default.

use crate::faults::FaultRule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything the double is started with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Tenant (directory) id accepted by the token endpoint.
    pub tenant_id: String,
    /// Client (application) id of the one service principal.
    pub client_id: String,
    /// Its secret; a random one is generated when absent.
    pub client_secret: Option<String>,
    /// The one subscription that exists.
    pub subscription_id: String,
    /// Default location reported for operations.
    pub location: String,
    /// Real seconds per simulated second (0.01 makes a 90 s provisioning take 0.9 s).
    pub time_scale: f64,
    /// Lifetime of issued access tokens, in real seconds.
    pub token_lifetime_secs: u64,
    /// Write the CA certificate (PEM) to this file.
    pub ca_pem_path: Option<PathBuf>,
    /// Protocol switches.
    pub behaviour: Behaviour,
    /// Simulated durations.
    pub latency: Latency,
    /// Subscription token buckets.
    pub throttling: Throttling,
    /// Initial fault script.
    pub faults: Vec<FaultRule>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            tenant_id: "8f3c2a1e-5b7d-4e19-9a60-2d4c8b1f7e35".into(),
            client_id: "1d6e9b42-7c3a-4f85-b2d0-6a9e3c5f1b78".into(),
            client_secret: None,
            subscription_id: "5a2f7c91-3e4b-4d68-8f0a-b1c2d3e4f506".into(),
            location: "westeurope".into(),
            time_scale: 1.0,
            token_lifetime_secs: 3599,
            ca_pem_path: None,
            behaviour: Behaviour::default(),
            latency: Latency::default(),
            throttling: Throttling::default(),
            faults: Vec::new(),
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the ARM test double configuration {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid for its format.
    #[error("invalid ARM test double configuration {path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid ARM test double configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads a `.toml` or `.json` file (by extension; anything else is tried as JSON then TOML).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let parsed = match ext.as_str() {
            "toml" => toml::from_str::<Config>(&text).map_err(|e| e.to_string()),
            "json" => serde_json::from_str::<Config>(&text).map_err(|e| e.to_string()),
            _ => serde_json::from_str::<Config>(&text)
                .map_err(|e| e.to_string())
                .or_else(|_| toml::from_str::<Config>(&text).map_err(|e| e.to_string())),
        };
        let config = parsed.map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks ranges that serde cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(self.time_scale > 0.0 && self.time_scale.is_finite()) {
            return Err(ConfigError::Invalid(format!(
                "time_scale must be a positive number, got {}",
                self.time_scale
            )));
        }
        for (name, v) in [
            ("tenant_id", &self.tenant_id),
            ("client_id", &self.client_id),
            ("subscription_id", &self.subscription_id),
            ("location", &self.location),
        ] {
            if v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                return Err(ConfigError::Invalid(format!(
                    "{name} must be non-empty letters, digits, '-' or '.', got {v:?}"
                )));
            }
        }
        if self.client_secret.as_deref() == Some("") {
            return Err(ConfigError::Invalid(
                "client_secret must not be empty".into(),
            ));
        }
        self.latency.check().map_err(ConfigError::Invalid)?;
        self.throttling.check().map_err(ConfigError::Invalid)?;
        for (i, f) in self.faults.iter().enumerate() {
            f.check()
                .map_err(|m| ConfigError::Invalid(format!("faults[{i}]: {m}")))?;
        }
        Ok(())
    }
}

/// Protocol switches (changeable at run time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// Send terminal states in lowercase (`succeeded`), as some real responses do.
    pub lowercase_terminal_states: bool,
    /// Send `Location` / `Azure-AsyncOperation` as paths relative to the management endpoint.
    pub relative_location: bool,
    /// Also send `retry-after-ms` next to `Retry-After` (sub-second polling under a time scale).
    pub retry_after_ms_header: bool,
    /// How a scale set PATCH answers: `accepted` (202, Location, Azure-AsyncOperation) or
    /// `ok` (200 with the updating body and Azure-AsyncOperation).
    pub patch_response: PatchResponse,
    /// Reject api-versions that the resource type does not support (400, like ARM).
    pub strict_api_versions: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            lowercase_terminal_states: false,
            relative_location: false,
            retry_after_ms_header: true,
            patch_response: PatchResponse::Accepted,
            strict_api_versions: true,
        }
    }
}

/// See [`Behaviour::patch_response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchResponse {
    /// 202 Accepted with Location and Azure-AsyncOperation.
    Accepted,
    /// 200 OK with the body in `Updating` state and Azure-AsyncOperation.
    Ok,
}

/// Simulated durations, in simulated seconds (scaled by `time_scale`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Added before answering every management request.
    pub request_secs: f64,
    /// `Retry-After` advertised on 202s and in-progress polls.
    pub retry_after_secs: f64,
    /// From deployment PUT (Accepted) to Running.
    pub deployment_start_secs: f64,
    /// From the last resource to the deployment's terminal state.
    pub deployment_finish_secs: f64,
    /// Provisioning time of a resource type missing from `provisioning`.
    pub provisioning_default_secs: f64,
    /// Provisioning time per resource type (case-insensitive), by deployment or PUT.
    pub provisioning: BTreeMap<String, f64>,
    /// Scale set capacity change (PATCH / PUT of an existing scale set).
    pub vmss_scale_secs: f64,
    /// Scale set deallocate.
    pub vmss_deallocate_secs: f64,
    /// Scale set start.
    pub vmss_start_secs: f64,
    /// Scale set powerOff.
    pub vmss_power_off_secs: f64,
    /// Scale set restart.
    pub vmss_restart_secs: f64,
    /// Update of one scale set instance (protection policy).
    pub instance_update_secs: f64,
    /// Delete of a resource type missing from `delete`.
    pub delete_default_secs: f64,
    /// Delete time per resource type.
    pub delete: BTreeMap<String, f64>,
    /// Resource group delete (cascades).
    pub resource_group_delete_secs: f64,
    /// What-if computation.
    pub what_if_secs: f64,
    /// Deployment record delete.
    pub deployment_delete_secs: f64,
}

impl Default for Latency {
    fn default() -> Self {
        let provisioning = [
            ("Microsoft.Network/virtualNetworks", 6.0),
            ("Microsoft.Network/virtualNetworks/subnets", 3.0),
            ("Microsoft.Network/networkSecurityGroups", 4.0),
            ("Microsoft.Network/publicIPAddresses", 4.0),
            ("Microsoft.Network/loadBalancers", 5.0),
            ("Microsoft.Network/natGateways", 5.0),
            ("Microsoft.Storage/storageAccounts", 22.0),
            ("Microsoft.Storage/storageAccounts/fileServices", 2.0),
            ("Microsoft.Storage/storageAccounts/fileServices/shares", 2.0),
            ("Microsoft.Compute/virtualMachineScaleSets", 90.0),
            ("Microsoft.Insights/autoscaleSettings", 2.0),
            ("Microsoft.ManagedIdentity/userAssignedIdentities", 3.0),
            ("Microsoft.Authorization/roleAssignments", 5.0),
            ("Microsoft.KeyVault/vaults", 15.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Latency {
            request_secs: 0.0,
            retry_after_secs: 10.0,
            deployment_start_secs: 1.0,
            deployment_finish_secs: 0.0,
            provisioning_default_secs: 5.0,
            provisioning,
            vmss_scale_secs: 40.0,
            vmss_deallocate_secs: 35.0,
            vmss_start_secs: 45.0,
            vmss_power_off_secs: 20.0,
            vmss_restart_secs: 40.0,
            instance_update_secs: 8.0,
            delete_default_secs: 10.0,
            delete: BTreeMap::new(),
            resource_group_delete_secs: 30.0,
            what_if_secs: 3.0,
            deployment_delete_secs: 1.0,
        }
    }
}

fn lookup(map: &BTreeMap<String, f64>, rtype: &str) -> Option<f64> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(rtype))
        .map(|(_, v)| *v)
}

impl Latency {
    /// Provisioning time of a resource type.
    pub fn provisioning_for(&self, rtype: &str) -> f64 {
        lookup(&self.provisioning, rtype).unwrap_or(self.provisioning_default_secs)
    }

    /// Delete time of a resource type.
    pub fn delete_for(&self, rtype: &str) -> f64 {
        lookup(&self.delete, rtype).unwrap_or(self.delete_default_secs)
    }

    fn check(&self) -> Result<(), String> {
        let scalars = [
            ("request_secs", self.request_secs),
            ("retry_after_secs", self.retry_after_secs),
            ("deployment_start_secs", self.deployment_start_secs),
            ("deployment_finish_secs", self.deployment_finish_secs),
            ("provisioning_default_secs", self.provisioning_default_secs),
            ("vmss_scale_secs", self.vmss_scale_secs),
            ("vmss_deallocate_secs", self.vmss_deallocate_secs),
            ("vmss_start_secs", self.vmss_start_secs),
            ("vmss_power_off_secs", self.vmss_power_off_secs),
            ("vmss_restart_secs", self.vmss_restart_secs),
            ("instance_update_secs", self.instance_update_secs),
            ("delete_default_secs", self.delete_default_secs),
            (
                "resource_group_delete_secs",
                self.resource_group_delete_secs,
            ),
            ("what_if_secs", self.what_if_secs),
            ("deployment_delete_secs", self.deployment_delete_secs),
        ];
        for (name, v) in scalars {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!(
                    "latency.{name} must be a finite number >= 0, got {v}"
                ));
            }
        }
        for (map, name) in [
            (&self.provisioning, "provisioning"),
            (&self.delete, "delete"),
        ] {
            for (k, v) in map {
                if !(*v >= 0.0 && v.is_finite()) {
                    return Err(format!(
                        "latency.{name}.{k} must be a finite number >= 0, got {v}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One token bucket.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Maximum (and initial) number of tokens.
    pub capacity: u32,
    /// Tokens added per simulated second.
    pub refill_per_sec: f64,
}

/// Subscription throttling (token buckets, as ARM's regional limits).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Throttling {
    /// Whether requests are throttled at all (headers are sent either way).
    pub enabled: bool,
    /// GET/HEAD.
    pub reads: Bucket,
    /// PUT/PATCH/POST.
    pub writes: Bucket,
    /// DELETE.
    pub deletes: Bucket,
}

impl Default for Throttling {
    fn default() -> Self {
        Throttling {
            enabled: true,
            reads: Bucket {
                capacity: 250,
                refill_per_sec: 25.0,
            },
            writes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
            deletes: Bucket {
                capacity: 200,
                refill_per_sec: 10.0,
            },
        }
    }
}

impl Throttling {
    fn check(&self) -> Result<(), String> {
        for (name, b) in [
            ("reads", self.reads),
            ("writes", self.writes),
            ("deletes", self.deletes),
        ] {
            if b.capacity == 0 || !(b.refill_per_sec > 0.0 && b.refill_per_sec.is_finite()) {
                return Err(format!(
                    "throttling.{name} needs capacity >= 1 and refill_per_sec > 0"
                ));
            }
        }
        Ok(())
    }
}

/// The run-time changeable part of the configuration (`/_double/settings`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Protocol switches.
    pub behaviour: Behaviour,
    /// Simulated durations.
    pub latency: Latency,
    /// Throttling.
    pub throttling: Throttling,
}

impl Default for Settings {
    fn default() -> Self {
        let c = Config::default();
        Settings {
            behaviour: c.behaviour,
            latency: c.latency,
            throttling: c.throttling,
        }
    }
}

impl Settings {
    /// Checks ranges.
    pub fn check(&self) -> Result<(), String> {
        self.latency.check()?;
        self.throttling.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_configuration_example_is_valid() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").expect("a toml block") + 8;
        let end = start + readme[start..].find("```").expect("closed");
        let c: Config = toml::from_str(&readme[start..end]).unwrap();
        c.check().unwrap();
        assert_eq!(c.time_scale, 0.01);
        assert_eq!(c.faults.len(), 1);
        assert_eq!(
            c.latency
                .delete_for("microsoft.compute/virtualmachinescalesets"),
            60.0
        );
    }

    #[test]
    fn toml_and_json_scripts_load() {
        let dir = std::env::temp_dir().join(format!("arm-double-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let toml_path = dir.join("c.toml");
        std::fs::write(
            &toml_path,
            r#"
time_scale = 0.01
[behaviour]
lowercase_terminal_states = true
[latency]
retry_after_secs = 2
provisioning = { "Microsoft.Compute/virtualMachineScaleSets" = 60 }
[[faults]]
method = "GET"
path = "*/operations/*"
nth = 2
action = { kind = "throttle", retry_after_secs = 3 }
"#,
        )
        .unwrap();
        let c = Config::load(&toml_path).unwrap();
        assert_eq!(c.time_scale, 0.01);
        assert!(c.behaviour.lowercase_terminal_states);
        assert_eq!(
            c.latency
                .provisioning_for("microsoft.compute/virtualmachinescalesets"),
            60.0
        );
        assert_eq!(c.faults.len(), 1);

        let json_path = dir.join("c.json");
        std::fs::write(
            &json_path,
            r#"{"time_scale": 0.5, "latency": {"request_secs": 1}}"#,
        )
        .unwrap();
        assert_eq!(Config::load(&json_path).unwrap().time_scale, 0.5);

        std::fs::write(&json_path, r#"{"time_scale": 0}"#).unwrap();
        let err = Config::load(&json_path).unwrap_err().to_string();
        assert!(err.contains("time_scale"), "{err}");
        std::fs::write(&json_path, r#"{"tyme_scale": 1}"#).unwrap();
        let err = Config::load(&json_path).unwrap_err().to_string();
        assert!(err.contains("tyme_scale"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}

//! [`deploy`]: from a valid pool to a running pool, idempotently.
//!
//! 1. Render the template and parameters; fill the secure parameters the spec references with
//!    `{ env = "..." }` from the environment (their values travel only in the request body).
//! 2. Read the live state: the deployment (which also tells whether the resource group
//!    exists). A deployment still running (an earlier run was interrupted) is re-attached and
//!    followed, never submitted again.
//! 3. If the last deployment succeeded with the same configuration (the hash of the template and
//!    plain parameters, kept as the deployment output `dsvmpoolConfigHash`) and the scale set is
//!    still there, nothing is written: the pool is up to date.
//! 4. Otherwise: create the resource group if missing (tagged `dsvmpool-pool`), preflight
//!    (`validate`), create the deployment, and poll it (honouring `Retry-After`) while the
//!    deployment's operations are reported per resource.
//! 5. The outputs: FQDN, public address, JupyterHub URL, SSH command.
//!
//! The instance count sent on an update is the live capacity (clamped to the spec's
//! `[min, max]`), so a redeploy never undoes what autoscale or `dsvmpool scale` did.
//!
//! Secrets are not compared (Resource Manager never returns them): after changing one, deploy
//! with [`DeployOptions::force`].

use super::{EnvSource, Progress, ProgressSink, Reporter, process_env};
use crate::azure::client::PollStatus;
use crate::azure::lro::{Terminal, terminal_state};
use crate::azure::models::{
    Deployment, DeploymentOperation, DeploymentRequest, ResourceGroup, SecretString, Tags,
};
use crate::azure::{ArmClient, ArmResponse, error_from_response};
use crate::error::{Diagnostic, Error, ErrorKind, Result};
use crate::names::ResourceNames;
use crate::render::{Artifacts, RenderOptions, params::names as pnames, render};
use crate::spec::ValidPool;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Name of the deployment output that holds the configuration hash.
pub const CONFIG_HASH_OUTPUT: &str = "dsvmpoolConfigHash";
/// Tag put on a resource group that dsvmpool created (value: the pool name).
pub const POOL_TAG: &str = "dsvmpool-pool";

/// Options of [`deploy`].
#[derive(Clone)]
pub struct DeployOptions {
    /// Receives progress events.
    pub progress: Option<ProgressSink>,
    /// Deploy even when the live deployment has the same configuration (e.g. after changing a
    /// secret, which cannot be compared).
    pub force: bool,
    /// Where secure parameters are read (default: the process environment).
    pub env: Option<EnvSource>,
    /// Poll interval while following a deployment started by an earlier run (its status URL is
    /// not known any more, so the deployment itself is read). Default 10 s.
    pub reattach_poll_interval: Duration,
    /// Render options.
    pub render: RenderOptions,
}

impl Default for DeployOptions {
    fn default() -> Self {
        Self {
            progress: None,
            force: false,
            env: None,
            reattach_poll_interval: Duration::from_secs(10),
            render: RenderOptions::default(),
        }
    }
}

impl fmt::Debug for DeployOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployOptions")
            .field("progress", &self.progress.as_ref().map(|_| "<sink>"))
            .field("force", &self.force)
            .field("env", &self.env.as_ref().map(|_| "<lookup>"))
            .field("reattach_poll_interval", &self.reattach_poll_interval)
            .field("render", &self.render)
            .finish()
    }
}

/// What [`deploy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployAction {
    /// The pool did not exist; it was created.
    Created,
    /// The pool existed with another configuration (or an unfinished deployment); it was
    /// updated.
    Updated,
    /// The pool is up to date: nothing was written.
    Unchanged,
}

/// The state of one resource of a deployment, as its operations report it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceProgress {
    /// ARM type, e.g. `Microsoft.Network/virtualNetworks`.
    pub resource_type: String,
    /// Resource name.
    pub name: String,
    /// `Waiting` (not started), then the provisioning state (`Running`, `Succeeded`, `Failed`…).
    pub state: String,
    /// `Create`, `Read`, … when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Seconds since this process first saw the resource start (frozen when it ends).
    pub elapsed_secs: f64,
    /// The provider's error message, when the resource failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ResourceProgress {
    /// Whether the state is terminal.
    pub fn is_finished(&self) -> bool {
        terminal_state(&self.state).is_some()
    }
}

/// How users reach the pool (from the deployment outputs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PoolOutputs {
    /// The pool's DNS name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    /// Public IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    /// JupyterHub URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jupyterhub_url: Option<String>,
    /// SSH command for the admin (Linux).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_command: Option<String>,
    /// Remote desktop address (Windows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdp_address: Option<String>,
    /// Per-instance SSH ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_ssh_ports: Option<String>,
    /// The shared workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<String>,
    /// Where it is mounted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
}

impl PoolOutputs {
    /// Reads the deployment outputs (`{"name": {"type", "value"}}`).
    pub fn from_outputs(outputs: Option<&Value>) -> Self {
        let get = |k: &str| {
            outputs
                .and_then(|o| o.get(k))
                .and_then(|v| v.get("value"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Self {
            fqdn: get("fqdn"),
            public_ip: get("publicIpAddress"),
            jupyterhub_url: get("jupyterHubUrl"),
            ssh_command: get("sshCommand"),
            rdp_address: get("rdpAddress"),
            instance_ssh_ports: get("instancePortRange"),
            share: get("sharePath"),
            mount_path: get("mountPath"),
        }
    }
}

/// The result of [`deploy`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployOutcome {
    /// Pool name.
    pub pool: String,
    /// Resource group.
    pub resource_group: String,
    /// Deployment name.
    pub deployment: String,
    /// What happened.
    pub action: DeployAction,
    /// Whether a deployment started by an earlier (interrupted) run was followed.
    pub reattached: bool,
    /// Provisioning state of the deployment.
    pub state: String,
    /// Hash of the deployed configuration (template and plain parameters).
    pub config_hash: String,
    /// Instance count sent with the deployment (`None` when nothing was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<u32>,
    /// How users reach the pool.
    pub outputs: PoolOutputs,
    /// Final state of each resource (empty when nothing was deployed or progress was off).
    pub resources: Vec<ResourceProgress>,
}

/// Template, parameters and secrets of a deployment, ready to send. `Debug` shows no secret.
pub(crate) struct DeployInputs {
    template: Value,
    plain: Map<String, Value>,
    secrets: Vec<(String, SecretString)>,
    hash: String,
}

impl fmt::Debug for DeployInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeployInputs")
            .field("parameters", &self.plain.keys().collect::<Vec<_>>())
            .field(
                "secure_parameters",
                &self.secrets.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

fn secret_field(parameter: &str) -> &'static str {
    match parameter {
        pnames::ADMIN_PASSWORD => "access.password",
        pnames::STORAGE_ACCOUNT_KEY => "storage.key",
        _ => "",
    }
}

impl DeployInputs {
    /// Reads the secure parameters from `env` and computes the configuration hash.
    pub(crate) fn new(artifacts: &Artifacts, env: &EnvSource) -> Result<Self> {
        let mut plain = artifacts
            .parameters
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        plain.remove(pnames::INSTANCE_COUNT);
        let mut secrets = Vec::new();
        let mut missing = Vec::new();
        for sp in &artifacts.secure_parameters {
            match env(&sp.env) {
                // A storage key reaches every instance's root: only the form of a key passes
                // (the value is never shown).
                Some(v)
                    if sp.name == pnames::STORAGE_ACCOUNT_KEY
                        && !crate::spec::values::is_storage_account_key(&v) =>
                {
                    missing.push(
                        Diagnostic::error(
                            secret_field(&sp.name),
                            "storage-key",
                            format!(
                                "environment variable `{}` does not hold a storage account key",
                                sp.env
                            ),
                        )
                        .hint(crate::spec::values::STORAGE_KEY_RULE),
                    );
                }
                Some(v) => secrets.push((sp.name.clone(), SecretString::new(v))),
                None => missing.push(
                    Diagnostic::error(
                        secret_field(&sp.name),
                        "secret-env",
                        format!(
                            "environment variable `{}` is not set; it holds the secure \
                             parameter `{}`",
                            sp.env, sp.name
                        ),
                    )
                    .hint(
                        "export it before running this command: its value is sent only in the \
                         deployment request, never written or logged",
                    ),
                ),
            }
        }
        if !missing.is_empty() {
            return Err(Error::Validation(crate::error::ValidationErrors {
                errors: missing,
                warnings: vec![],
            }));
        }
        let digest = Sha256::digest(
            serde_json::to_vec(&json!({"template": artifacts.template, "parameters": plain}))
                .map_err(|e| Error::Internal(format!("hashing the configuration: {e}")))?,
        );
        let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let mut template = artifacts.template.clone();
        if let Some(t) = template.as_object_mut() {
            let outputs = t.entry("outputs").or_insert_with(|| json!({}));
            if let Some(o) = outputs.as_object_mut() {
                o.insert(
                    CONFIG_HASH_OUTPUT.into(),
                    json!({"type": "string", "value": hash}),
                );
            }
        }
        Ok(Self {
            template,
            plain,
            secrets,
            hash,
        })
    }

    pub(crate) fn hash(&self) -> &str {
        &self.hash
    }

    /// The deployment request with `instance_count` instances.
    pub(crate) fn request(&self, instance_count: u32) -> DeploymentRequest {
        let mut p = self.plain.clone();
        p.insert(
            pnames::INSTANCE_COUNT.into(),
            json!({ "value": instance_count }),
        );
        for (name, value) in &self.secrets {
            p.insert(name.clone(), json!({ "value": value.expose() }));
        }
        DeploymentRequest::incremental(self.template.clone(), Value::Object(p))
    }

    /// Whether a deployment carries this configuration: same hash output, same plain
    /// parameters (ARM echoes them; secure ones are never echoed).
    pub(crate) fn matches(&self, d: &Deployment) -> bool {
        let Some(props) = d.properties.as_ref() else {
            return false;
        };
        let hash = props
            .outputs
            .as_ref()
            .and_then(|o| o.get(CONFIG_HASH_OUTPUT))
            .and_then(|v| v.get("value"))
            .and_then(Value::as_str);
        if hash != Some(self.hash.as_str()) {
            return false;
        }
        let echoed = props.parameters.as_ref().and_then(Value::as_object);
        self.plain.iter().all(|(k, v)| {
            let Some(ours) = v.get("value") else {
                // Key Vault references are covered by the hash.
                return true;
            };
            let theirs = echoed
                .and_then(|e| e.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)))
                .and_then(|(_, p)| p.get("value"));
            theirs == Some(ours)
        })
    }
}

/// What the live deployment record says.
pub(crate) enum LiveDeployment {
    /// The resource group does not exist.
    NoGroup,
    /// The group exists; the deployment does not.
    Missing,
    /// The deployment.
    Found(Box<Deployment>),
}

/// One GET tells whether the group and the deployment exist.
pub(crate) async fn read_deployment(
    client: &ArmClient,
    resource_group: &str,
    name: &str,
) -> Result<LiveDeployment> {
    let req = client.requests().deployment_get(resource_group, name)?;
    let resp = client.execute(&req).await?;
    if resp.is_success() {
        return Ok(LiveDeployment::Found(Box::new(resp.parse(&req.operation)?)));
    }
    if resp.status == 404 {
        return Ok(
            if arm_code(&resp).eq_ignore_ascii_case("ResourceGroupNotFound") {
                LiveDeployment::NoGroup
            } else {
                LiveDeployment::Missing
            },
        );
    }
    Err(error_from_response(&req.operation, &resp))
}

fn arm_code(resp: &ArmResponse) -> String {
    resp.json_body()
        .and_then(|b| {
            b.get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default()
}

fn is_active(d: &Deployment) -> bool {
    d.provisioning_state()
        .is_some_and(|s| terminal_state(s).is_none())
}

fn succeeded(d: &Deployment) -> bool {
    d.provisioning_state().and_then(terminal_state) == Some(Terminal::Succeeded)
}

/// Follows the per-resource operations of a deployment and reports changes.
pub(crate) struct OperationTracker {
    rep: Reporter,
    resources: BTreeMap<(String, String), (ResourceProgress, Option<Instant>)>,
    order: Vec<(String, String)>,
    warned: bool,
}

fn key(t: &str, n: &str) -> (String, String) {
    (t.to_ascii_lowercase(), n.to_ascii_lowercase())
}

impl OperationTracker {
    pub(crate) fn new(rep: Reporter) -> Self {
        Self {
            rep,
            resources: BTreeMap::new(),
            order: Vec::new(),
            warned: false,
        }
    }

    /// Announces the template's resources as `Waiting`.
    pub(crate) fn expect(&mut self, template: &Value) {
        let empty = Vec::new();
        for r in template["resources"].as_array().unwrap_or(&empty) {
            let (Some(t), Some(n)) = (r["type"].as_str(), r["name"].as_str()) else {
                continue;
            };
            if n.starts_with('[') {
                continue;
            }
            self.update(t, n, "Waiting", None, None);
        }
    }

    fn update(
        &mut self,
        t: &str,
        n: &str,
        state: &str,
        operation: Option<String>,
        message: Option<String>,
    ) {
        let k = key(t, n);
        let now = Instant::now();
        let entry = self.resources.entry(k.clone()).or_insert_with(|| {
            self.order.push(k.clone());
            (
                ResourceProgress {
                    resource_type: t.to_string(),
                    name: n.to_string(),
                    state: String::new(),
                    operation: None,
                    elapsed_secs: 0.0,
                    message: None,
                },
                None,
            )
        });
        let (rp, started) = entry;
        if state != "Waiting" && started.is_none() {
            *started = Some(now);
        }
        let finished_before = rp.is_finished();
        if !finished_before {
            rp.elapsed_secs = started.map_or(0.0, |s| now.duration_since(s).as_secs_f64());
        }
        let changed = rp.state != state || (message.is_some() && rp.message != message);
        rp.state = state.to_string();
        if operation.is_some() {
            rp.operation = operation;
        }
        if message.is_some() {
            rp.message = message;
        }
        if changed {
            let ev = Progress::Resource(rp.clone());
            self.rep.emit(ev);
        }
    }

    /// Feeds a listing of the deployment's operations.
    pub(crate) fn observe(&mut self, ops: &[DeploymentOperation]) {
        for op in ops {
            let Some(p) = op.properties.as_ref() else {
                continue;
            };
            let Some(tr) = p.target_resource.as_ref() else {
                continue;
            };
            let (Some(t), Some(n)) = (tr.resource_type.as_deref(), tr.resource_name.as_deref())
            else {
                continue;
            };
            let state = p.provisioning_state.as_deref().unwrap_or("Running");
            let message = match terminal_state(state) {
                Some(Terminal::Failed) | Some(Terminal::Canceled) => {
                    p.status_message.as_ref().map(status_text)
                }
                _ => None,
            };
            self.update(t, n, state, p.provisioning_operation.clone(), message);
        }
    }

    /// Lists the operations and reports changes (best effort: a failed listing is reported
    /// once as a warning and otherwise ignored).
    pub(crate) async fn refresh(&mut self, client: &ArmClient, rg: &str, name: &str) {
        match client.deployment_operations(rg, name).await {
            Ok(ops) => self.observe(&ops),
            Err(e) => {
                if !self.warned {
                    self.warned = true;
                    self.rep
                        .warn(format!("cannot show per-resource progress: {e}"));
                }
            }
        }
    }

    /// The resources seen, in the order they were first seen.
    pub(crate) fn snapshot(&self) -> Vec<ResourceProgress> {
        self.order
            .iter()
            .filter_map(|k| self.resources.get(k).map(|(r, _)| r.clone()))
            .collect()
    }
}

/// The text of an operation's `statusMessage` (`{"error": {...}}`, `{"status", "error"}`, or a
/// string).
fn status_text(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    let err = v.get("error").unwrap_or(v);
    let parsed: Option<crate::azure::models::ArmError> = serde_json::from_value(err.clone()).ok();
    match parsed {
        Some(e) if !e.code.is_empty() => format!("{}: {}", e.code, e.describe()),
        _ => v.to_string(),
    }
}

/// The capacity a deployment sends: the live one (clamped to the spec's range), else the
/// initial one.
pub(crate) fn instance_count(pool: &ValidPool, live: Option<u32>) -> u32 {
    let c = &pool.spec().capacity;
    match live {
        Some(n) => n.clamp(c.min, c.max.max(c.min)),
        None => pool.initial_capacity(),
    }
}

/// Follows a deployment started earlier until it ends; returns its final record.
async fn follow(
    client: &ArmClient,
    rg: &str,
    name: &str,
    mut current: Deployment,
    tracker: &mut OperationTracker,
    rep: &Reporter,
    interval: Duration,
) -> Result<Deployment> {
    let started = Instant::now();
    loop {
        if rep.enabled() {
            tracker.refresh(client, rg, name).await;
        }
        if !is_active(&current) {
            return Ok(current);
        }
        rep.emit(Progress::Waiting {
            operation: format!("deployment {name}"),
            status: current.provisioning_state().map(str::to_string),
            elapsed_secs: started.elapsed().as_secs_f64(),
        });
        tokio::time::sleep(interval).await;
        current = client
            .deployment_get(rg, name)
            .await?
            .ok_or_else(|| Error::Http {
                operation: format!("GET deployment {name}"),
                status: 404,
                code: "DeploymentNotFound".into(),
                message: "the deployment disappeared while it was being followed".into(),
                request_id: String::new(),
                kind: ErrorKind::NotFound,
            })?;
    }
}

fn failure_of(name: &str, d: &Deployment) -> Error {
    let state = d.provisioning_state().unwrap_or("unknown").to_string();
    let err = d.properties.as_ref().and_then(|p| p.error.clone());
    let (code, message) = match err {
        Some(e) => (e.code.clone(), e.describe()),
        None => (format!("Deployment{state}"), String::new()),
    };
    Error::Http {
        operation: format!("deployment {name}"),
        status: 200,
        code,
        message: format!("the deployment ended {state}: {message}"),
        request_id: d
            .properties
            .as_ref()
            .and_then(|p| p.correlation_id.clone())
            .unwrap_or_default(),
        kind: ErrorKind::Http,
    }
}

/// Deploys (or updates) a pool. See the [module documentation](self).
pub async fn deploy(
    client: &ArmClient,
    pool: &ValidPool,
    options: &DeployOptions,
) -> Result<DeployOutcome> {
    let rep = Reporter::new(options.progress.as_ref());
    let s = pool.spec();
    let names = ResourceNames::for_pool(pool);
    let rg = s.resource_group.as_str();
    let dep = names.deployment.as_str();
    rep.step("render", format!("rendering pool `{}`", s.name));
    let artifacts = render(pool, &options.render)?;
    let env = options.env.clone().unwrap_or_else(process_env);
    let inputs = DeployInputs::new(&artifacts, &env)?;
    let mut tracker = OperationTracker::new(rep.clone());
    let outcome = |action, reattached, d: &Deployment, count, resources| DeployOutcome {
        pool: s.name.clone(),
        resource_group: rg.to_string(),
        deployment: dep.to_string(),
        action,
        reattached,
        state: d.provisioning_state().unwrap_or("Succeeded").to_string(),
        config_hash: inputs.hash().to_string(),
        instance_count: count,
        outputs: PoolOutputs::from_outputs(d.properties.as_ref().and_then(|p| p.outputs.as_ref())),
        resources,
    };

    rep.step("read", format!("reading deployment {dep} in {rg}"));
    let live = read_deployment(client, rg, dep).await?;
    let mut reattached = false;
    let group_exists = !matches!(live, LiveDeployment::NoGroup);
    let mut existing = match live {
        LiveDeployment::Found(d) => Some(*d),
        _ => None,
    };
    if let Some(d) = existing.take() {
        let d = if is_active(&d) {
            rep.step(
                "re-attach",
                format!(
                    "deployment {dep} is still {} (started earlier): following it",
                    d.provisioning_state().unwrap_or("running")
                ),
            );
            reattached = true;
            let d = follow(
                client,
                rg,
                dep,
                d,
                &mut tracker,
                &rep,
                options.reattach_poll_interval,
            )
            .await?;
            if !succeeded(&d) {
                rep.warn(format!("{}; deploying again", failure_of(dep, &d)));
            }
            d
        } else {
            d
        };
        existing = Some(d);
    }

    let mut live_capacity = None;
    if group_exists {
        let vmss = client.scale_set_get(rg, &names.scale_set).await?;
        live_capacity = vmss.as_ref().and_then(|v| v.capacity());
        if let Some(d) = &existing
            && vmss.is_some()
            && succeeded(d)
            && !options.force
            && inputs.matches(d)
        {
            rep.step(
                "unchanged",
                format!("pool `{}` is up to date: nothing to deploy", s.name),
            );
            let action = if reattached {
                DeployAction::Updated
            } else {
                DeployAction::Unchanged
            };
            return Ok(outcome(action, reattached, d, None, tracker.snapshot()));
        }
    } else {
        let mut tags: Tags = s.tags.clone().into_iter().collect();
        tags.insert(POOL_TAG.into(), s.name.clone());
        rep.step(
            "resource group",
            format!("creating resource group {rg} in {}", s.location),
        );
        let group = ResourceGroup {
            location: s.location.clone(),
            tags: Some(tags),
            ..Default::default()
        };
        client.resource_group_put(rg, &group).await?;
    }

    let count = instance_count(pool, live_capacity);
    let request = inputs.request(count);
    rep.step("validate", format!("preflight validation of {dep}"));
    client.deployment_validate(rg, dep, &request).await?;

    rep.step(
        "submit",
        format!(
            "deploying {dep} ({count} instance{})",
            if count == 1 { "" } else { "s" }
        ),
    );
    tracker.expect(&artifacts.template);
    let submitted = client.deploy(rg, dep, &request).await;
    let final_deployment: Deployment = match submitted {
        Ok(mut poller) => {
            let started = Instant::now();
            loop {
                match poller.poll().await {
                    Ok(PollStatus::Running { status, .. }) => {
                        if rep.enabled() {
                            tracker.refresh(client, rg, dep).await;
                        }
                        rep.emit(Progress::Waiting {
                            operation: format!("deployment {dep}"),
                            status,
                            elapsed_secs: started.elapsed().as_secs_f64(),
                        });
                    }
                    Ok(PollStatus::Done(o)) => {
                        let body = o.body.unwrap_or(Value::Null);
                        break serde_json::from_value(body).map_err(|e| Error::Http {
                            operation: format!("PUT deployment {dep}"),
                            status: o.status,
                            code: "InvalidResponseBody".into(),
                            message: format!("the deployment is not the expected JSON: {e}"),
                            request_id: o.request_id.unwrap_or_default(),
                            kind: ErrorKind::Http,
                        })?;
                    }
                    Err(e) => {
                        if rep.enabled() {
                            tracker.refresh(client, rg, dep).await;
                        }
                        return Err(e);
                    }
                }
            }
        }
        Err(e) if e.kind() == ErrorKind::Conflict && http_code(&e) == "DeploymentActive" => {
            // Another run (or an earlier attempt of this request) started it: follow it.
            rep.step(
                "re-attach",
                format!("deployment {dep} is already running: following it"),
            );
            reattached = true;
            let d = client.deployment_get(rg, dep).await?.ok_or(e)?;
            let d = follow(
                client,
                rg,
                dep,
                d,
                &mut tracker,
                &rep,
                options.reattach_poll_interval,
            )
            .await?;
            if !succeeded(&d) {
                return Err(failure_of(dep, &d));
            }
            d
        }
        Err(e) => return Err(e),
    };
    if rep.enabled() {
        tracker.refresh(client, rg, dep).await;
    }
    let action = if existing.is_some() || live_capacity.is_some() {
        DeployAction::Updated
    } else {
        DeployAction::Created
    };
    Ok(outcome(
        action,
        reattached,
        &final_deployment,
        Some(count),
        tracker.snapshot(),
    ))
}

fn http_code(e: &Error) -> &str {
    match e {
        Error::Http { code, .. } => code,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pool() -> ValidPool {
        crate::Pool::from_toml(
            r#"
            name = "team"
            location = "westeurope"
            resource_group = "rg-team"
            [capacity]
            min = 1
            max = 6
            initial = 2
            [access]
            ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
            source_cidrs = ["203.0.113.0/24"]
            password = { env = "TEAM_ADMIN_PASSWORD" }
            "#,
        )
        .unwrap()
        .validate()
        .unwrap()
    }

    fn env_with(v: Option<&'static str>) -> EnvSource {
        Arc::new(move |k: &str| {
            (k == "TEAM_ADMIN_PASSWORD")
                .then_some(v)
                .flatten()
                .map(String::from)
        })
    }

    #[test]
    fn secure_parameters_come_from_the_environment_and_never_show() {
        let a = render(&pool(), &RenderOptions::default()).unwrap();
        let e = DeployInputs::new(&a, &env_with(None)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        let msg = e.to_string();
        assert!(
            msg.contains("TEAM_ADMIN_PASSWORD") && msg.contains("access.password"),
            "{msg}"
        );

        let i = DeployInputs::new(&a, &env_with(Some("Sup3r-Secret-Pw!"))).unwrap();
        assert!(!format!("{i:?}").contains("Sup3r"));
        let r = i.request(3);
        assert!(!format!("{r:?}").contains("Sup3r"));
        let body = serde_json::to_value(&r).unwrap();
        assert_eq!(
            body["properties"]["parameters"]["adminPassword"]["value"],
            "Sup3r-Secret-Pw!"
        );
        assert_eq!(
            body["properties"]["parameters"]["instanceCount"]["value"],
            3
        );
        assert_eq!(
            body["properties"]["template"]["outputs"][CONFIG_HASH_OUTPUT]["value"],
            i.hash()
        );
        // The secret and the instance count do not change the hash.
        let j = DeployInputs::new(&a, &env_with(Some("another"))).unwrap();
        assert_eq!(i.hash(), j.hash());
        assert_eq!(i.hash().len(), 64);
    }

    #[test]
    fn a_storage_key_from_the_environment_must_look_like_one() {
        let p = crate::Pool::from_toml(
            r#"
            name = "keyed"
            location = "westeurope"
            resource_group = "rg-keyed"
            [access]
            ssh_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop"]
            source_cidrs = ["203.0.113.0/24"]
            [storage]
            credential = "account_key"
            key = { env = "TEAM_STORAGE_KEY" }
            account = { name = "sharedacct01", create = false, resource_group = "rg-shared" }
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        let a = render(&p, &RenderOptions::default()).unwrap();
        let env = |v: &'static str| -> EnvSource {
            Arc::new(move |k: &str| (k == "TEAM_STORAGE_KEY").then(|| v.to_string()))
        };
        for bad in [
            "short==",
            "abc\nDSVMPOOL_STORAGE_KEY\ntouch /tmp/x",
            "U2VudGluZWxTdG9yYWdlS2V5VmFsdWU5ZjNjZFNlbnRpbmVsU3RvcmFnZUtleVZhbHVlOWYzY2RTZW50aW5lbA=='",
        ] {
            let e = DeployInputs::new(&a, &env(bad)).unwrap_err();
            let v = e.validation().expect("a validation error");
            assert!(
                v.errors
                    .iter()
                    .any(|d| d.path == "storage.key" && d.rule == "storage-key"),
                "{e}"
            );
            assert!(!e.to_string().contains(bad), "{e}");
        }
        let good = "U2VudGluZWxTdG9yYWdlS2V5VmFsdWU5ZjNjZFNlbnRpbmVsU3RvcmFnZUtleVZhbHVlOWYzY2RTZW50aW5lbA==";
        assert!(DeployInputs::new(&a, &env(good)).is_ok());
    }

    #[test]
    fn the_instance_count_follows_live_capacity_within_the_spec_range() {
        let p = pool();
        assert_eq!(instance_count(&p, None), 2);
        assert_eq!(instance_count(&p, Some(5)), 5);
        assert_eq!(instance_count(&p, Some(0)), 1);
        assert_eq!(instance_count(&p, Some(40)), 6);
    }

    #[test]
    fn a_deployment_matches_only_with_the_same_hash_and_parameters() {
        let a = render(&pool(), &RenderOptions::default()).unwrap();
        let i = DeployInputs::new(&a, &env_with(Some("pw"))).unwrap();
        let params: Map<String, Value> = i
            .plain
            .iter()
            .map(|(k, v)| (k.clone(), json!({"type": "String", "value": v["value"]})))
            .collect();
        let mut d: Deployment = serde_json::from_value(json!({"properties": {
            "provisioningState": "Succeeded",
            "parameters": params,
            "outputs": {CONFIG_HASH_OUTPUT: {"type": "String", "value": i.hash()}}
        }}))
        .unwrap();
        assert!(i.matches(&d));
        d.properties.as_mut().unwrap().parameters.as_mut().unwrap()["vmSize"]["value"] =
            json!("Standard_D8s_v5");
        assert!(!i.matches(&d));
        let d: Deployment = serde_json::from_value(json!({"properties": {
            "provisioningState": "Succeeded", "outputs": {}}}))
        .unwrap();
        assert!(!i.matches(&d));
    }

    #[test]
    fn tracker_reports_changes_once() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let sink: ProgressSink = Arc::new(move |p: &Progress| s2.lock().unwrap().push(p.clone()));
        let mut t = OperationTracker::new(Reporter(Some(sink)));
        t.expect(
            &json!({"resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "v"},
                                       {"type": "X/y", "name": "[variables('n')]"}]}),
        );
        let op = |state: &str| -> DeploymentOperation {
            serde_json::from_value(json!({"properties": {"provisioningState": state,
                "provisioningOperation": "Create",
                "statusMessage": {"error": {"code": "Boom", "message": "it broke"}},
                "targetResource": {"resourceType": "Microsoft.Network/virtualNetworks", "resourceName": "v"}}}))
            .unwrap()
        };
        t.observe(&[op("Running")]);
        t.observe(&[op("Running")]);
        t.observe(&[op("Failed")]);
        let ev = seen.lock().unwrap();
        assert_eq!(ev.len(), 3, "{ev:?}");
        match &ev[2] {
            Progress::Resource(r) => {
                assert_eq!(r.state, "Failed");
                assert_eq!(r.message.as_deref(), Some("Boom: it broke"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.snapshot().len(), 1);
    }
}

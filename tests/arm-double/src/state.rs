//! The double's state: resource groups, resources, scale set instances, deployments, async
//! operations, and the event queue that moves them forward in simulated time.
//!
//! Nothing runs in the background: every request first *advances* the state to the current
//! simulated time, processing due events in time order with their own timestamps, so what a
//! client observes is exactly what a continuously running service would show.

use crate::clock::{Clock, SimTime};
use crate::config::Settings;
use crate::error::ArmError;
use crate::expr::Runtime;
use crate::faults::{FaultScript, Outcome};
use crate::record::RecordedRequest;
use crate::template::{self, Plan, TemplateEnv};
use crate::throttle::Buckets;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// A resource group.
#[derive(Clone, Debug)]
pub struct ResourceGroup {
    /// Name as created.
    pub name: String,
    /// Location.
    pub location: String,
    /// Tags.
    pub tags: Value,
    /// `managedBy`, if set.
    pub managed_by: Option<String>,
    /// `Succeeded` or `Deleting`.
    pub provisioning_state: String,
    /// The delete operation in progress.
    pub delete_op: Option<String>,
}

/// How a PUT of a resource type answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutStyle {
    /// Synchronous 200/201 with the final body (autoscale settings, resource groups).
    Sync,
    /// 200/201 with a non-terminal `provisioningState` and `Azure-AsyncOperation`.
    Provisioning,
    /// 202 with `Location`; the resource is invisible until created (storage accounts).
    Accepted,
}

/// The PUT style of a resource type.
pub fn put_style(rtype: &str) -> PutStyle {
    match rtype.to_ascii_lowercase().as_str() {
        "microsoft.insights/autoscalesettings"
        | "microsoft.authorization/roleassignments"
        | "microsoft.storage/storageaccounts/fileservices"
        | "microsoft.storage/storageaccounts/fileservices/shares" => PutStyle::Sync,
        "microsoft.storage/storageaccounts" => PutStyle::Accepted,
        _ => PutStyle::Provisioning,
    }
}

/// Whether a resource type reports `properties.provisioningState`.
fn has_provisioning_state(rtype: &str) -> bool {
    !rtype.eq_ignore_ascii_case("microsoft.insights/autoscalesettings")
}

/// Power state of a scale set instance (the `PowerState/<code>` suffix).
pub type Power = &'static str;

/// One scale set instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Instance id (`0`, `1`, ...).
    pub id: u32,
    /// `vmId` (a GUID).
    pub vm_id: String,
    /// `Creating`, `Succeeded`, `Updating`, `Deleting` or `Failed`.
    pub provisioning_state: String,
    /// `starting`, `running`, `stopping`, `stopped`, `deallocating`, `deallocated`.
    pub power: Power,
    /// Power state to restore if the running power operation fails.
    pub power_before: Power,
    /// `protectionPolicy.protectFromScaleIn`.
    pub protect_from_scale_in: bool,
    /// `protectionPolicy.protectFromScaleSetActions`.
    pub protect_from_scale_set_actions: bool,
    /// Creation time.
    pub created: SimTime,
    /// Computer name.
    pub computer_name: String,
}

/// Scale set runtime state.
#[derive(Clone, Debug, Default)]
pub struct Vmss {
    /// Instances by id.
    pub instances: BTreeMap<u32, Instance>,
    /// Next instance id.
    pub next_id: u32,
}

/// Any resource.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Id as created.
    pub id: String,
    /// Full name (`a/b` for a child).
    pub name: String,
    /// Full type.
    pub rtype: String,
    /// Normalised resource group key.
    pub rg: String,
    /// What the client (or template) set: location, tags, sku, identity, properties, ...
    pub model: Map<String, Value>,
    /// Read-only properties the service adds (merged into `properties` when rendered).
    pub readonly: Map<String, Value>,
    /// api-version last used to write it.
    pub api_version: String,
    /// Provisioning state.
    pub provisioning_state: String,
    /// ETag counter.
    pub etag: u64,
    /// Creation time.
    pub created: SimTime,
    /// False while a 202-style creation is in progress.
    pub visible: bool,
    /// Scale set state.
    pub vmss: Option<Vmss>,
    /// Storage account keys.
    pub keys: Option<[String; 2]>,
}

impl Resource {
    /// The `ETag` header value.
    pub fn etag_header(&self) -> String {
        format!("\"{}\"", self.etag)
    }

    fn lower_type(&self) -> String {
        self.rtype.to_ascii_lowercase()
    }
}

/// State of one resource inside a deployment.
#[derive(Clone, Debug, PartialEq)]
pub enum DepResStatus {
    /// Waiting for dependencies.
    Pending,
    /// Provisioning.
    Running,
    /// Done.
    Succeeded,
    /// Failed.
    Failed(ArmError),
}

/// A resource inside a deployment.
#[derive(Clone, Debug)]
pub struct DepRes {
    /// Status.
    pub status: DepResStatus,
    /// When provisioning started.
    pub start: Option<SimTime>,
    /// When it ended.
    pub end: Option<SimTime>,
    /// Whether the resource existed before (Update rather than Create).
    pub existed: bool,
    /// Deployment operation id (16 hex digits).
    pub operation_id: String,
    /// Tracking id.
    pub tracking_id: String,
    /// How it will end.
    pub outcome: Outcome,
}

/// A deployment at resource group scope.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// Id as created.
    pub id: String,
    /// Name.
    pub name: String,
    /// Normalised resource group key.
    pub rg: String,
    /// Run generation (events of an older run are ignored).
    pub run: u64,
    /// Evaluation environment.
    pub env: TemplateEnv,
    /// The prepared template.
    pub plan: Plan,
    /// `Incremental` or `Complete`.
    pub mode: String,
    /// `Accepted`, `Running`, `Succeeded`, `Failed`, `Canceled`.
    pub state: String,
    /// Created (PUT) time.
    pub created: SimTime,
    /// Last state change.
    pub changed: SimTime,
    /// Correlation id of the PUT.
    pub correlation_id: String,
    /// Per-resource progress.
    pub res: Vec<DepRes>,
    /// Outputs once succeeded.
    pub outputs: Option<Value>,
    /// Error once failed or canceled.
    pub error: Option<ArmError>,
    /// Outcome forced by a fault on the PUT (applied when the first resource ends).
    pub forced: Option<Outcome>,
    /// No more resources start (canceled or failed).
    pub stopped: bool,
    /// Id in the `operationStatuses` URL.
    pub status_op: String,
    /// `templateHash`.
    pub template_hash: String,
    /// api-version of the PUT.
    pub api_version: String,
    /// `Retry-After` override for its polls (slow-poll fault).
    pub retry_after: Option<f64>,
    /// Whether the PUT's mode was given as debug etc. (echo of request properties).
    pub request_props: Value,
}

impl Deployment {
    /// Whether the deployment is still active.
    pub fn active(&self) -> bool {
        self.state == "Accepted" || self.state == "Running"
    }
}

/// What an async operation does when it ends.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Nothing besides its status.
    None,
    /// A PUT/PATCH finishes: provisioning state, scale set instances.
    FinishPut {
        /// Normalised resource id.
        key: String,
    },
    /// Scale set power action.
    VmssPower {
        /// Normalised scale set id.
        key: String,
        /// Instances affected.
        instances: Vec<u32>,
        /// Final power state.
        target: Power,
    },
    /// Instance update (protection policy).
    InstanceUpdate {
        /// Normalised scale set id.
        key: String,
        /// Instance.
        instance: u32,
    },
    /// Resource delete (cascades to children).
    DeleteResource {
        /// Normalised resource id.
        key: String,
    },
    /// Resource group delete (cascades to everything in it).
    DeleteGroup {
        /// Normalised group name.
        rg: String,
    },
    /// What-if: compute the changes when done.
    WhatIf {
        /// Normalised group name.
        rg: String,
        /// Deployment name.
        name: String,
        /// Request `properties`.
        props: Value,
    },
    /// Deployment record delete.
    DeleteDeployment {
        /// Normalised deployment id.
        key: String,
    },
}

/// What the `Location` URL answers once an operation succeeded.
#[derive(Clone, Debug)]
pub enum FinalResponse {
    /// 204 No Content.
    NoContent,
    /// 200 with an empty body.
    OkEmpty,
    /// 200 with the resource as it is then.
    Resource(String),
    /// 200 with a computed body (what-if).
    Body(Value),
    /// 200 with a scale set instance as it is then.
    Instance(String, u32),
}

/// An asynchronous operation.
#[derive(Clone, Debug)]
pub struct AsyncOp {
    /// Operation id.
    pub id: String,
    /// Resource provider namespace (for URLs).
    pub namespace: String,
    /// api-version of the starting request.
    pub api_version: String,
    /// Start.
    pub start: SimTime,
    /// End.
    pub end: SimTime,
    /// How it ends.
    pub outcome: Outcome,
    /// Whether it has ended (effects applied).
    pub done: bool,
    /// Effect at the end.
    pub effect: Effect,
    /// Answer of the Location URL when succeeded.
    pub final_response: FinalResponse,
    /// `Retry-After` override (slow-poll fault).
    pub retry_after: Option<f64>,
    /// Whether the Location URL is the subscription-level `operationresults` form.
    pub subscription_level: bool,
}

/// An issued access token.
#[derive(Clone, Debug)]
pub struct Token {
    /// Audience (`https://management.azure.com/`-style, from the requested scope; `None` for
    /// tokens issued through the library API, which count as management tokens).
    pub audience: Option<String>,
    /// Real expiry.
    pub expires: std::time::Instant,
    /// Wall-clock expiry (for messages).
    pub expires_wall: time::OffsetDateTime,
}

#[derive(Clone, Debug)]
enum Event {
    DeploymentStart { key: String, run: u64 },
    ResourceStart { key: String, run: u64, idx: usize },
    ResourceEnd { key: String, run: u64, idx: usize },
    OpEnd { op: String },
}

/// The whole state (behind one mutex).
pub struct State {
    /// Simulated clock.
    pub clock: Clock,
    /// Run-time settings.
    pub settings: Settings,
    /// Subscription id.
    pub subscription_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Default location.
    pub location: String,
    /// `https://127.0.0.1:port` (no trailing slash).
    pub base_url: String,
    /// Token lifetime (real seconds).
    pub token_lifetime_secs: u64,
    /// Resource groups by lowercase name.
    pub rgs: BTreeMap<String, ResourceGroup>,
    /// Resources by normalised id.
    pub resources: BTreeMap<String, Resource>,
    /// Deployments by normalised id.
    pub deployments: BTreeMap<String, Deployment>,
    /// Async operations by id.
    pub ops: HashMap<String, AsyncOp>,
    queue: BinaryHeap<Reverse<(SimTime, u64)>>,
    events: HashMap<u64, Event>,
    seq: u64,
    /// Fault script.
    pub faults: FaultScript,
    /// Issued tokens.
    pub tokens: HashMap<String, Token>,
    /// Throttling buckets.
    pub buckets: Buckets,
    /// Request log.
    pub requests: Vec<RecordedRequest>,
    /// Sequence number of the next recorded request.
    pub next_request: u64,
}

/// Normalised key of a resource group name.
pub fn rg_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn hex16() -> String {
    let u = uuid::Uuid::new_v4();
    let b = u.as_bytes();
    b[..8].iter().map(|x| format!("{x:02X}")).collect()
}

fn base36_name(prefix: &str, id: u32) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = id;
    let mut s = Vec::new();
    for _ in 0..6 {
        s.push(DIGITS[(n % 36) as usize] as char);
        n /= 36;
    }
    s.reverse();
    format!("{prefix}{}", s.into_iter().collect::<String>())
}

fn power_display(p: Power) -> &'static str {
    match p {
        "starting" => "VM starting",
        "running" => "VM running",
        "stopping" => "VM stopping",
        "stopped" => "VM stopped",
        "deallocating" => "VM deallocating",
        "deallocated" => "VM deallocated",
        _ => "VM status unknown",
    }
}

impl State {
    /// A fresh state.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        clock: Clock,
        settings: Settings,
        subscription_id: String,
        tenant_id: String,
        client_id: String,
        client_secret: String,
        location: String,
        base_url: String,
        token_lifetime_secs: u64,
        faults: FaultScript,
    ) -> Self {
        let buckets = Buckets::new(&settings.throttling, SimTime::default());
        State {
            clock,
            settings,
            subscription_id,
            tenant_id,
            client_id,
            client_secret,
            location,
            base_url,
            token_lifetime_secs,
            rgs: BTreeMap::new(),
            resources: BTreeMap::new(),
            deployments: BTreeMap::new(),
            ops: HashMap::new(),
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
            faults,
            tokens: HashMap::new(),
            buckets,
            requests: Vec::new(),
            next_request: 1,
        }
    }

    /// A terminal state as configured (`Succeeded` or `succeeded`).
    pub fn terminal(&self, s: &str) -> String {
        if self.settings.behaviour.lowercase_terminal_states
            && matches!(s, "Succeeded" | "Failed" | "Canceled")
        {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    }

    /// An absolute (or, if configured, relative) URL for a path with query.
    pub fn url(&self, path_and_query: &str) -> String {
        if self.settings.behaviour.relative_location {
            path_and_query.to_string()
        } else {
            format!("{}{}", self.base_url, path_and_query)
        }
    }

    fn schedule(&mut self, at: SimTime, e: Event) {
        self.seq += 1;
        self.events.insert(self.seq, e);
        self.queue.push(Reverse((at, self.seq)));
    }

    /// Processes every event due at or before `now`.
    pub fn advance(&mut self, now: SimTime) {
        while let Some(Reverse((at, seq))) = self.queue.peek().copied() {
            if at > now {
                break;
            }
            self.queue.pop();
            if let Some(e) = self.events.remove(&seq) {
                self.process(at, e);
            }
        }
    }

    fn process(&mut self, t: SimTime, e: Event) {
        match e {
            Event::DeploymentStart { key, run } => self.deployment_start(t, &key, run),
            Event::ResourceStart { key, run, idx } => self.resource_start(t, &key, run, idx),
            Event::ResourceEnd { key, run, idx } => self.resource_end(t, &key, run, idx),
            Event::OpEnd { op } => self.op_end(t, &op),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Resources

    /// Id prefix of a resource group.
    pub fn rg_id(&self, rg_name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription_id, rg_name
        )
    }

    /// Renders a resource as ARM returns it.
    pub fn render(&self, r: &Resource) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(r.id));
        out.insert(
            "name".into(),
            json!(r.name.rsplit('/').next().unwrap_or(&r.name)),
        );
        out.insert("type".into(), json!(r.rtype));
        for (k, v) in &r.model {
            if k != "properties" {
                out.insert(k.clone(), v.clone());
            }
        }
        out.insert("etag".into(), json!(r.etag_header()));
        let mut props = match r.model.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => Map::new(),
        };
        for (k, v) in &r.readonly {
            props.insert(k.clone(), v.clone());
        }
        if has_provisioning_state(&r.rtype) {
            props.insert(
                "provisioningState".into(),
                json!(self.terminal(&r.provisioning_state)),
            );
        }
        out.insert("properties".into(), Value::Object(props));
        let mut v = Value::Object(out);
        strip_write_only(&r.rtype, &mut v);
        v
    }

    /// Creates or replaces a resource's model (PUT semantics) and puts it in `state`.
    /// Returns whether it already existed.
    #[allow(clippy::too_many_arguments)]
    pub fn upsert_resource(
        &mut self,
        t: SimTime,
        id: &str,
        rtype: &str,
        name: &str,
        rg: &str,
        api_version: &str,
        model: Map<String, Value>,
        state: &str,
        visible: bool,
    ) -> bool {
        let key = template::normalise_id(id);
        let mut model = model;
        if let Some(Value::Object(p)) = model.get_mut("properties") {
            p.remove("provisioningState");
        }
        let existed = self.resources.contains_key(&key);
        if let Some(r) = self.resources.get_mut(&key) {
            r.model = model;
            r.api_version = api_version.to_string();
            r.provisioning_state = state.to_string();
            r.etag += 1;
            if visible {
                r.visible = true;
            }
        } else {
            let mut r = Resource {
                id: id.to_string(),
                name: name.to_string(),
                rtype: template::canonical_type(rtype),
                rg: rg.to_string(),
                model,
                readonly: Map::new(),
                api_version: api_version.to_string(),
                provisioning_state: state.to_string(),
                etag: 1,
                created: t,
                visible,
                vmss: None,
                keys: None,
            };
            self.on_create(t, &mut r);
            self.resources.insert(key.clone(), r);
        }
        self.on_model_change(t, &key);
        existed
    }

    fn on_create(&self, t: SimTime, r: &mut Resource) {
        let stamp = self.clock.stamp(t);
        match r.lower_type().as_str() {
            "microsoft.compute/virtualmachinescalesets" => {
                r.vmss = Some(Vmss::default());
                r.readonly
                    .insert("uniqueId".into(), json!(uuid::Uuid::new_v4().to_string()));
                r.readonly.insert("timeCreated".into(), json!(stamp));
            }
            "microsoft.storage/storageaccounts" => {
                let key = || {
                    let bytes: Vec<u8> = (0..4)
                        .flat_map(|_| uuid::Uuid::new_v4().as_bytes().to_vec())
                        .collect();
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                };
                r.keys = Some([key(), key()]);
                let n = r.name.clone();
                r.readonly.insert("creationTime".into(), json!(stamp));
                r.readonly.insert(
                    "primaryEndpoints".into(),
                    json!({
                        "blob": format!("https://{n}.blob.core.windows.net/"),
                        "file": format!("https://{n}.file.core.windows.net/"),
                        "queue": format!("https://{n}.queue.core.windows.net/"),
                        "table": format!("https://{n}.table.core.windows.net/")
                    }),
                );
                r.readonly
                    .insert("statusOfPrimary".into(), json!("available"));
            }
            "microsoft.network/publicipaddresses" => {
                let h = crate::expr::hash64(&r.id.to_ascii_lowercase(), 7);
                r.readonly.insert(
                    "ipAddress".into(),
                    json!(format!("203.0.113.{}", 1 + (h % 254))),
                );
                r.readonly.insert(
                    "resourceGuid".into(),
                    json!(uuid::Uuid::new_v4().to_string()),
                );
            }
            t if t.starts_with("microsoft.network/") => {
                r.readonly.insert(
                    "resourceGuid".into(),
                    json!(uuid::Uuid::new_v4().to_string()),
                );
            }
            _ => {}
        }
    }

    /// Re-derives read-only values that depend on the model (DNS names, instances).
    fn on_model_change(&mut self, t: SimTime, key: &str) {
        let location = self.location.clone();
        let Some(r) = self.resources.get_mut(key) else {
            return;
        };
        match r.lower_type().as_str() {
            "microsoft.network/publicipaddresses" => {
                let label = r
                    .model
                    .get("properties")
                    .and_then(|p| p.get("dnsSettings"))
                    .and_then(|d| d.get("domainNameLabel"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let loc = r
                    .model
                    .get("location")
                    .and_then(Value::as_str)
                    .unwrap_or(&location)
                    .to_ascii_lowercase()
                    .replace(' ', "");
                if let Some(label) = label {
                    let mut dns = r
                        .model
                        .get("properties")
                        .and_then(|p| p.get("dnsSettings"))
                        .cloned()
                        .unwrap_or(json!({}));
                    dns["fqdn"] = json!(format!("{label}.{loc}.cloudapp.arm-double.test"));
                    r.readonly.insert("dnsSettings".into(), dns);
                }
            }
            "microsoft.compute/virtualmachinescalesets" => {
                let target = capacity_of(&r.model).unwrap_or(0);
                reconcile_instances(r, target, t);
            }
            _ => {}
        }
    }

    /// Completes a PUT/PATCH: provisioning state and scale set instances.
    fn finish_put(&mut self, key: &str, outcome: &Outcome) {
        let Some(r) = self.resources.get_mut(key) else {
            return;
        };
        r.visible = true;
        match outcome {
            Outcome::Succeeded => {
                r.provisioning_state = "Succeeded".into();
                if let Some(v) = r.vmss.as_mut() {
                    v.instances
                        .retain(|_, i| i.provisioning_state != "Deleting");
                    for i in v.instances.values_mut() {
                        if i.provisioning_state == "Creating" || i.provisioning_state == "Updating"
                        {
                            i.provisioning_state = "Succeeded".into();
                            if i.power == "starting" {
                                i.power = "running";
                            }
                        }
                    }
                }
            }
            Outcome::Failed(_) | Outcome::Canceled => {
                r.provisioning_state = if matches!(outcome, Outcome::Canceled) {
                    "Canceled".into()
                } else {
                    "Failed".into()
                };
                if let Some(v) = r.vmss.as_mut() {
                    for i in v.instances.values_mut() {
                        match i.provisioning_state.as_str() {
                            "Creating" => {
                                i.provisioning_state = "Failed".into();
                                i.power = "stopped";
                            }
                            "Deleting" | "Updating" => i.provisioning_state = "Succeeded".into(),
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    /// Deletes a resource and its children now.
    pub fn remove_resource_tree(&mut self, key: &str) {
        let prefix = format!("{key}/");
        self.resources
            .retain(|k, _| k != key && !k.starts_with(&prefix));
    }

    /// Resources visible to clients.
    pub fn visible(&self, key: &str) -> Option<&Resource> {
        self.resources.get(key).filter(|r| r.visible)
    }

    // -----------------------------------------------------------------------------------------
    // Async operations

    /// Starts an async operation; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn start_op(
        &mut self,
        now: SimTime,
        namespace: &str,
        api_version: &str,
        duration: f64,
        outcome: Outcome,
        effect: Effect,
        final_response: FinalResponse,
        retry_after: Option<f64>,
        subscription_level: bool,
    ) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let end = now.plus(duration);
        self.ops.insert(
            id.clone(),
            AsyncOp {
                id: id.clone(),
                namespace: namespace.to_string(),
                api_version: api_version.to_string(),
                start: now,
                end,
                outcome,
                done: false,
                effect,
                final_response,
                retry_after,
                subscription_level,
            },
        );
        self.schedule(end, Event::OpEnd { op: id.clone() });
        id
    }

    /// `Azure-AsyncOperation` URL of an operation.
    pub fn op_status_url(&self, op: &AsyncOp) -> String {
        self.url(&format!(
            "/subscriptions/{}/providers/{}/locations/{}/operations/{}?api-version={}",
            self.subscription_id, op.namespace, self.location, op.id, op.api_version
        ))
    }

    /// `Location` URL of an operation.
    pub fn op_location_url(&self, op: &AsyncOp) -> String {
        if op.subscription_level {
            self.url(&format!(
                "/subscriptions/{}/operationresults/{}?api-version={}",
                self.subscription_id, op.id, op.api_version
            ))
        } else {
            self.url(&format!(
                "/subscriptions/{}/providers/{}/locations/{}/operationResults/{}?api-version={}",
                self.subscription_id, op.namespace, self.location, op.id, op.api_version
            ))
        }
    }

    /// `Retry-After` (simulated seconds) for an operation.
    pub fn op_retry_after(&self, op: &AsyncOp) -> f64 {
        op.retry_after
            .unwrap_or(self.settings.latency.retry_after_secs)
    }

    /// The operation status body (`Azure-AsyncOperation` resource).
    pub fn op_status_body(&self, op: &AsyncOp) -> Value {
        let mut v = json!({
            "id": format!("/subscriptions/{}/providers/{}/locations/{}/operations/{}", self.subscription_id, op.namespace, self.location, op.id),
            "name": op.id,
            "startTime": self.clock.stamp(op.start),
        });
        if !op.done {
            v["status"] = json!("InProgress");
            v["percentComplete"] = json!(0.0);
            return v;
        }
        v["endTime"] = json!(self.clock.stamp(op.end));
        match &op.outcome {
            Outcome::Succeeded => {
                v["status"] = json!(self.terminal("Succeeded"));
                v["percentComplete"] = json!(100.0);
            }
            Outcome::Failed(e) => {
                v["status"] = json!(self.terminal("Failed"));
                v["error"] = e.to_value();
            }
            Outcome::Canceled => {
                v["status"] = json!(self.terminal("Canceled"));
                v["error"] =
                    ArmError::new("OperationCanceled", "The operation was canceled.").to_value();
            }
        }
        v
    }

    fn op_end(&mut self, t: SimTime, id: &str) {
        let Some(op) = self.ops.get(id).cloned() else {
            return;
        };
        let ok = op.outcome == Outcome::Succeeded;
        let mut final_response = op.final_response.clone();
        let mut outcome = op.outcome.clone();
        match &op.effect {
            Effect::None => {}
            Effect::FinishPut { key } => self.finish_put(key, &op.outcome),
            Effect::VmssPower {
                key,
                instances,
                target,
            } => {
                if let Some(v) = self.resources.get_mut(key).and_then(|r| r.vmss.as_mut()) {
                    for iid in instances {
                        if let Some(i) = v.instances.get_mut(iid) {
                            i.power = if ok { target } else { i.power_before };
                        }
                    }
                }
            }
            Effect::InstanceUpdate { key, instance } => {
                if let Some(i) = self
                    .resources
                    .get_mut(key)
                    .and_then(|r| r.vmss.as_mut())
                    .and_then(|v| v.instances.get_mut(instance))
                {
                    i.provisioning_state = if ok { "Succeeded" } else { "Failed" }.into();
                }
            }
            Effect::DeleteResource { key } => {
                if ok {
                    self.remove_resource_tree(key);
                } else if let Some(r) = self.resources.get_mut(key) {
                    r.provisioning_state = "Failed".into();
                }
            }
            Effect::DeleteGroup { rg } => {
                if ok {
                    self.rgs.remove(rg);
                    self.resources.retain(|_, r| &r.rg != rg);
                    self.deployments.retain(|_, d| &d.rg != rg);
                } else {
                    if let Some(g) = self.rgs.get_mut(rg) {
                        g.provisioning_state = "Succeeded".into();
                        g.delete_op = None;
                    }
                    for r in self.resources.values_mut().filter(|r| &r.rg == rg) {
                        r.provisioning_state = "Failed".into();
                    }
                }
            }
            Effect::WhatIf { rg, name, props } => {
                if ok {
                    match crate::whatif::what_if(self, rg, name, props) {
                        Ok(body) => final_response = FinalResponse::Body(body),
                        Err(e) => outcome = Outcome::Failed(e),
                    }
                }
            }
            Effect::DeleteDeployment { key } => {
                if ok {
                    self.deployments.remove(key);
                }
            }
        }
        if let Some(op) = self.ops.get_mut(id) {
            op.done = true;
            op.end = t;
            op.final_response = final_response;
            op.outcome = outcome;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Deployments

    /// Registers a deployment run and schedules its start.
    pub fn start_deployment(&mut self, now: SimTime, mut d: Deployment) -> String {
        let key = template::normalise_id(&d.id);
        self.seq += 1;
        d.run = self.seq;
        let run = d.run;
        self.deployments.insert(key.clone(), d);
        let at = now.plus(self.settings.latency.deployment_start_secs);
        self.schedule(
            at,
            Event::DeploymentStart {
                key: key.clone(),
                run,
            },
        );
        key
    }

    fn deployment_mut(&mut self, key: &str, run: u64) -> Option<&mut Deployment> {
        self.deployments.get_mut(key).filter(|d| d.run == run)
    }

    fn deployment_start(&mut self, t: SimTime, key: &str, run: u64) {
        let Some(d) = self.deployment_mut(key, run) else {
            return;
        };
        if !d.active() {
            return;
        }
        d.state = "Running".into();
        d.changed = t;
        let ready: Vec<usize> = d
            .plan
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.depends_on.is_empty())
            .map(|(i, _)| i)
            .collect();
        if d.plan.resources.is_empty() {
            let finish = t.plus(self.settings.latency.deployment_finish_secs);
            self.finish_deployment_at(finish, key, run);
            return;
        }
        for idx in ready {
            self.schedule(
                t,
                Event::ResourceStart {
                    key: key.to_string(),
                    run,
                    idx,
                },
            );
        }
    }

    fn finish_deployment_at(&mut self, at: SimTime, key: &str, run: u64) {
        // finishing is an event too, so timestamps stay exact
        self.schedule(
            at,
            Event::ResourceEnd {
                key: key.to_string(),
                run,
                idx: usize::MAX,
            },
        );
    }

    fn resource_start(&mut self, t: SimTime, key: &str, run: u64, idx: usize) {
        let Some(d) = self.deployments.get(key).filter(|d| d.run == run) else {
            return;
        };
        if d.stopped || d.res[idx].status != DepResStatus::Pending {
            return;
        }
        let planned = d.plan.resources[idx].clone();
        let env = d.env.clone();
        let rg = d.rg.clone();
        let evaluated = {
            let rt = StateRuntime {
                state: self,
                plan: Some(&d.plan),
            };
            template::evaluate_at_provisioning(&env, &planned, &rt)
        };
        let rkey = template::normalise_id(&planned.id);
        let existed = self.resources.contains_key(&rkey);
        let path_outcome = self
            .faults
            .check("PUT", &planned.id, true)
            .and_then(|a| a.outcome());
        let (outcome, duration) = match evaluated {
            Ok(model) => {
                let state = if existed { "Updating" } else { "Creating" };
                let sync = put_style(&planned.rtype) == PutStyle::Sync;
                self.upsert_resource(
                    t,
                    &planned.id,
                    &planned.rtype,
                    &planned.name,
                    &rg,
                    &planned.api_version,
                    model,
                    if sync { "Succeeded" } else { state },
                    true,
                );
                let dur = self.settings.latency.provisioning_for(&planned.rtype);
                (path_outcome.unwrap_or(Outcome::Succeeded), dur)
            }
            Err(e) => (Outcome::Failed(e), 0.0),
        };
        let Some(d) = self.deployment_mut(key, run) else {
            return;
        };
        let r = &mut d.res[idx];
        r.status = DepResStatus::Running;
        r.start = Some(t);
        r.existed = existed;
        r.outcome = outcome;
        d.changed = t;
        self.schedule(
            t.plus(duration),
            Event::ResourceEnd {
                key: key.to_string(),
                run,
                idx,
            },
        );
    }

    fn resource_end(&mut self, t: SimTime, key: &str, run: u64, idx: usize) {
        if idx == usize::MAX {
            self.deployment_finish(t, key, run);
            return;
        }
        let Some(d) = self.deployments.get_mut(key).filter(|d| d.run == run) else {
            return;
        };
        let mut outcome = d.res[idx].outcome.clone();
        if let Some(forced) = d.forced.take() {
            match forced {
                Outcome::Failed(e) => outcome = Outcome::Failed(e),
                Outcome::Canceled => {
                    d.stopped = true;
                    if d.active() {
                        d.state = "Canceled".into();
                        d.error = Some(ArmError::new(
                            "DeploymentCanceled",
                            format!("The deployment '{}' was canceled.", d.name),
                        ));
                        d.changed = t;
                    }
                }
                Outcome::Succeeded => {}
            }
        }
        let rid = template::normalise_id(&d.plan.resources[idx].id);
        d.res[idx].end = Some(t);
        d.res[idx].status = match &outcome {
            Outcome::Succeeded => DepResStatus::Succeeded,
            Outcome::Failed(e) => DepResStatus::Failed(e.clone()),
            Outcome::Canceled => DepResStatus::Failed(ArmError::new(
                "OperationCanceled",
                "The resource operation was canceled.",
            )),
        };
        if !matches!(outcome, Outcome::Succeeded) {
            d.stopped = true;
        }
        d.changed = t;
        let mut next = Vec::new();
        if !d.stopped {
            for (j, r) in d.plan.resources.iter().enumerate() {
                if d.res[j].status == DepResStatus::Pending
                    && r.depends_on
                        .iter()
                        .all(|&k| d.res[k].status == DepResStatus::Succeeded)
                {
                    next.push(j);
                }
            }
        }
        let running = d.res.iter().any(|r| r.status == DepResStatus::Running);
        let still_active = d.active();
        self.finish_put(&rid, &outcome);
        for j in &next {
            self.schedule(
                t,
                Event::ResourceStart {
                    key: key.to_string(),
                    run,
                    idx: *j,
                },
            );
        }
        if next.is_empty() && !running && still_active {
            let at = t.plus(self.settings.latency.deployment_finish_secs);
            self.finish_deployment_at(at, key, run);
        }
    }

    fn deployment_finish(&mut self, t: SimTime, key: &str, run: u64) {
        let Some(d) = self.deployments.get(key).filter(|d| d.run == run) else {
            return;
        };
        if !d.active() {
            return;
        }
        let failures: Vec<ArmError> = d
            .res
            .iter()
            .filter_map(|r| match &r.status {
                DepResStatus::Failed(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        let forced = d.forced.clone();
        let (state, error, outputs) = if !failures.is_empty() {
            let mut e = ArmError::new(
                "DeploymentFailed",
                "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
            );
            e.details = failures;
            ("Failed", Some(e), None)
        } else if let Some(Outcome::Failed(e)) = forced {
            (
                "Failed",
                Some(
                    ArmError::new(
                        "DeploymentFailed",
                        "At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.",
                    )
                    .detail(e),
                ),
                None,
            )
        } else if let Some(Outcome::Canceled) = forced {
            (
                "Canceled",
                Some(ArmError::new(
                    "DeploymentCanceled",
                    format!("The deployment '{}' was canceled.", d.name),
                )),
                None,
            )
        } else {
            let rt = StateRuntime {
                state: self,
                plan: Some(&d.plan),
            };
            match template::evaluate_outputs(&d.env, &rt) {
                Ok(o) => ("Succeeded", None, Some(o)),
                Err(e) => (
                    "Failed",
                    Some(ArmError::new("DeploymentOutputEvaluationFailed", e.message)),
                    None,
                ),
            }
        };
        let complete = d.mode.eq_ignore_ascii_case("Complete") && state == "Succeeded";
        let keep: Vec<String> = d
            .plan
            .resources
            .iter()
            .map(|r| template::normalise_id(&r.id))
            .collect();
        let rg = d.rg.clone();
        if complete {
            let doomed: Vec<String> = self
                .resources
                .iter()
                .filter(|(k, r)| {
                    r.rg == rg
                        && !keep.contains(k)
                        && !keep.iter().any(|p| k.starts_with(&format!("{p}/")))
                })
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                self.remove_resource_tree(&k);
            }
        }
        if let Some(d) = self.deployment_mut(key, run) {
            d.state = state.into();
            d.error = error;
            d.outputs = outputs;
            d.changed = t;
            d.stopped = true;
            d.forced = None;
        }
    }

    /// Cancels a running deployment (`POST .../cancel`).
    pub fn cancel_deployment(&mut self, t: SimTime, key: &str) -> bool {
        let Some(d) = self.deployments.get_mut(key) else {
            return false;
        };
        if !d.active() {
            return false;
        }
        d.stopped = true;
        d.state = "Canceled".into();
        d.error = Some(ArmError::new(
            "DeploymentCanceled",
            format!("The deployment '{}' was canceled.", d.name),
        ));
        d.changed = t;
        true
    }

    /// The deployment body as ARM returns it.
    pub fn render_deployment(&self, d: &Deployment) -> Value {
        let end = if d.active() { None } else { Some(d.changed) };
        let duration = end.unwrap_or_else(|| self.clock.now()).since(d.created);
        let mut props = json!({
            "templateHash": d.template_hash,
            "parameters": template::echo_parameters(&d.plan.params),
            "mode": d.mode,
            "provisioningState": self.terminal(&d.state),
            "timestamp": self.clock.stamp(d.changed),
            "duration": crate::clock::iso_duration(duration),
            "correlationId": d.correlation_id,
            "providers": template::providers(&d.plan, &self.location),
            "dependencies": template::dependencies(&d.plan),
        });
        if let Some(dbg) = d.request_props.get("debugSetting") {
            props["debugSetting"] = dbg.clone();
        }
        if let Some(o) = &d.outputs {
            props["outputs"] = o.clone();
            props["outputResources"] = Value::Array(
                d.plan
                    .resources
                    .iter()
                    .map(|r| json!({"id": r.id}))
                    .collect(),
            );
        }
        if let Some(e) = &d.error {
            props["error"] = e.to_value();
        }
        json!({
            "id": d.id,
            "name": d.name,
            "type": "Microsoft.Resources/deployments",
            "properties": props
        })
    }

    /// The deployment's `operationStatuses` body.
    pub fn deployment_status_body(&self, d: &Deployment) -> Value {
        let mut v = json!({"status": self.terminal(&d.state)});
        if let Some(e) = &d.error {
            v["error"] = e.to_value();
        }
        v
    }

    /// The deployment operations list.
    pub fn deployment_operations(&self, d: &Deployment) -> Value {
        let mut ops: Vec<(SimTime, Value)> = Vec::new();
        for (i, r) in d.res.iter().enumerate() {
            let Some(start) = r.start else { continue };
            let p = &d.plan.resources[i];
            let (state, code, message) = match &r.status {
                DepResStatus::Running => ("Running", None, None),
                DepResStatus::Succeeded => (
                    "Succeeded",
                    Some(if r.existed { "OK" } else { "Created" }),
                    Some(json!({"status": "OK"})),
                ),
                DepResStatus::Failed(e) => (
                    "Failed",
                    Some("BadRequest"),
                    Some(json!({"status": "Failed", "error": e.to_value()})),
                ),
                DepResStatus::Pending => continue,
            };
            let updated = r.end.unwrap_or(start);
            let duration = r.end.unwrap_or_else(|| self.clock.now()).since(start);
            let mut props = json!({
                "provisioningOperation": "Create",
                "provisioningState": self.terminal(state),
                "timestamp": self.clock.stamp(updated),
                "duration": crate::clock::iso_duration(duration),
                "trackingId": r.tracking_id,
                "targetResource": {
                    "id": p.id,
                    "resourceType": p.rtype,
                    "resourceName": p.name,
                    "apiVersion": p.api_version
                }
            });
            if let Some(c) = code {
                props["statusCode"] = json!(c);
            }
            if let Some(m) = message {
                props["statusMessage"] = m;
            }
            ops.push((
                start,
                json!({
                    "id": format!("{}/operations/{}", d.id, r.operation_id),
                    "operationId": r.operation_id,
                    "properties": props
                }),
            ));
        }
        if d.state == "Succeeded"
            && d.outputs
                .as_ref()
                .is_some_and(|o| o.as_object().is_some_and(|m| !m.is_empty()))
        {
            let op_id = format!("{:016X}", crate::expr::hash64(&d.id, d.run));
            ops.push((
                d.changed,
                json!({
                    "id": format!("{}/operations/{}", d.id, op_id),
                    "operationId": op_id,
                    "properties": {
                        "provisioningOperation": "EvaluateDeploymentOutput",
                        "provisioningState": self.terminal("Succeeded"),
                        "timestamp": self.clock.stamp(d.changed),
                        "duration": "PT0S",
                        "trackingId": uuid::Uuid::new_v4().to_string(),
                        "statusCode": "OK",
                        "statusMessage": {"status": "OK"}
                    }
                }),
            ));
        }
        ops.sort_by_key(|(t, _)| *t);
        json!({"value": ops.into_iter().map(|(_, v)| v).collect::<Vec<_>>()})
    }

    /// New per-resource progress records for a plan.
    pub fn new_dep_res(plan: &Plan) -> Vec<DepRes> {
        plan.resources
            .iter()
            .map(|_| DepRes {
                status: DepResStatus::Pending,
                start: None,
                end: None,
                existed: false,
                operation_id: hex16(),
                tracking_id: uuid::Uuid::new_v4().to_string(),
                outcome: Outcome::Succeeded,
            })
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // Scale sets

    /// Renders a scale set instance.
    pub fn render_instance(&self, r: &Resource, i: &Instance, expand: bool) -> Value {
        let sku = r.model.get("sku").cloned().unwrap_or(json!({}));
        let admin = r
            .model
            .get("properties")
            .and_then(|p| p.get("virtualMachineProfile"))
            .and_then(|p| p.get("osProfile"))
            .and_then(|p| p.get("adminUsername"))
            .cloned()
            .unwrap_or(Value::Null);
        let vm_name = r.name.rsplit('/').next().unwrap_or(&r.name);
        let mut props = json!({
            "latestModelApplied": true,
            "vmId": i.vm_id,
            "provisioningState": self.terminal(&i.provisioning_state),
            "protectionPolicy": {
                "protectFromScaleIn": i.protect_from_scale_in,
                "protectFromScaleSetActions": i.protect_from_scale_set_actions
            },
            "osProfile": {"computerName": i.computer_name, "adminUsername": admin},
            "timeCreated": self.clock.stamp(i.created)
        });
        if expand {
            props["instanceView"] = json!({
                "platformUpdateDomain": i.id % 5,
                "platformFaultDomain": i.id % 3,
                "computerName": i.computer_name,
                "statuses": [
                    {
                        "code": format!("ProvisioningState/{}", i.provisioning_state.to_ascii_lowercase()),
                        "level": if i.provisioning_state == "Failed" { "Error" } else { "Info" },
                        "displayStatus": format!("Provisioning {}", match i.provisioning_state.as_str() {
                            "Succeeded" => "succeeded",
                            "Failed" => "failed",
                            _ => "in progress",
                        }),
                        "time": self.clock.stamp(i.created)
                    },
                    {
                        "code": format!("PowerState/{}", i.power),
                        "level": "Info",
                        "displayStatus": power_display(i.power)
                    }
                ]
            });
        }
        json!({
            "name": format!("{vm_name}_{}", i.id),
            "id": format!("{}/virtualMachines/{}", r.id, i.id),
            "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
            "instanceId": i.id.to_string(),
            "location": r.model.get("location").cloned().unwrap_or(json!(self.location)),
            "sku": {"name": sku.get("name").cloned().unwrap_or(Value::Null), "tier": sku.get("tier").cloned().unwrap_or(json!("Standard"))},
            "properties": props
        })
    }

    /// Everything, for `/_double/state`.
    pub fn snapshot(&self) -> Value {
        json!({
            "simulated_seconds": self.clock.now().secs(),
            "resource_groups": self.rgs.values().map(|g| json!({
                "name": g.name, "location": g.location, "provisioningState": g.provisioning_state
            })).collect::<Vec<_>>(),
            "resources": self.resources.values().filter(|r| r.visible).map(|r| {
                let mut v = self.render(r);
                if let Some(vm) = &r.vmss {
                    v["instances"] = Value::Array(vm.instances.values().map(|i| self.render_instance(r, i, true)).collect());
                }
                v
            }).collect::<Vec<_>>(),
            "deployments": self.deployments.values().map(|d| json!({
                "id": d.id, "provisioningState": d.state, "resources": d.plan.resources.len()
            })).collect::<Vec<_>>(),
            "pending_operations": self.ops.values().filter(|o| !o.done).count()
        })
    }

    /// Simulated start/end of every resource of a deployment and its critical path under the
    /// current latencies (for benchmarks).
    pub fn deployment_timeline(&self, d: &Deployment) -> Value {
        let lat = &self.settings.latency;
        let path = template::critical_path(&d.plan, &|r| lat.provisioning_for(&r.rtype));
        let critical = lat.deployment_start_secs + path + lat.deployment_finish_secs;
        json!({
            "id": d.id,
            "provisioningState": d.state,
            "created_secs": d.created.secs(),
            "finished_secs": if d.active() { Value::Null } else { json!(d.changed.secs()) },
            "critical_path_secs": critical,
            "critical_path_real_secs": critical * self.clock.scale(),
            "resources": d.plan.resources.iter().zip(&d.res).map(|(p, r)| json!({
                "id": p.id,
                "type": p.rtype,
                "start_secs": r.start.map(|s| s.secs()),
                "end_secs": r.end.map(|s| s.secs()),
                "status": match &r.status {
                    DepResStatus::Pending => "Pending",
                    DepResStatus::Running => "Running",
                    DepResStatus::Succeeded => "Succeeded",
                    DepResStatus::Failed(_) => "Failed",
                }
            })).collect::<Vec<_>>()
        })
    }
}

/// Removes the write-only properties resource providers never return (passwords, custom
/// data, protected settings, secret values).
pub fn strip_write_only(rtype: &str, body: &mut Value) {
    let Some(props) = body.get_mut("properties") else {
        return;
    };
    match rtype.to_ascii_lowercase().as_str() {
        "microsoft.compute/virtualmachinescalesets" => {
            if let Some(profile) = props.get_mut("virtualMachineProfile") {
                if let Some(Value::Object(os)) = profile.get_mut("osProfile") {
                    os.remove("adminPassword");
                    os.remove("customData");
                }
                if let Value::Object(p) = profile {
                    p.remove("userData");
                }
                if let Some(Value::Array(exts)) = profile
                    .get_mut("extensionProfile")
                    .and_then(|e| e.get_mut("extensions"))
                {
                    for e in exts {
                        if let Some(Value::Object(p)) = e.get_mut("properties") {
                            p.remove("protectedSettings");
                            p.remove("protectedSettingsFromKeyVault");
                        }
                    }
                }
            }
        }
        "microsoft.compute/virtualmachinescalesets/extensions" => {
            if let Value::Object(p) = props {
                p.remove("protectedSettings");
                p.remove("protectedSettingsFromKeyVault");
            }
        }
        "microsoft.keyvault/vaults/secrets" => {
            if let Value::Object(p) = props {
                p.remove("value");
            }
        }
        _ => {}
    }
}

/// `sku.capacity` of a model (integer or numeric string).
pub fn capacity_of(model: &Map<String, Value>) -> Option<u32> {
    let c = model.get("sku")?.get("capacity")?;
    c.as_u64()
        .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        .map(|n| n.min(1000) as u32)
}

/// Adds or marks for deletion instances so the live count matches `target`.
pub fn reconcile_instances(r: &mut Resource, target: u32, t: SimTime) {
    let policy = r
        .model
        .get("properties")
        .and_then(|p| p.get("scaleInPolicy"))
        .and_then(|p| p.get("rules"))
        .and_then(|r| r.get(0))
        .and_then(Value::as_str)
        .unwrap_or("Default")
        .to_string();
    let prefix = r
        .model
        .get("properties")
        .and_then(|p| p.get("virtualMachineProfile"))
        .and_then(|p| p.get("osProfile"))
        .and_then(|p| p.get("computerNamePrefix"))
        .and_then(Value::as_str)
        .unwrap_or(&r.name)
        .to_string();
    let Some(v) = r.vmss.as_mut() else { return };
    let live: Vec<u32> = v
        .instances
        .values()
        .filter(|i| i.provisioning_state != "Deleting")
        .map(|i| i.id)
        .collect();
    let live_n = live.len() as u32;
    if target > live_n {
        for _ in live_n..target {
            let id = v.next_id;
            v.next_id += 1;
            v.instances.insert(
                id,
                Instance {
                    id,
                    vm_id: uuid::Uuid::new_v4().to_string(),
                    provisioning_state: "Creating".into(),
                    power: "starting",
                    power_before: "stopped",
                    protect_from_scale_in: false,
                    protect_from_scale_set_actions: false,
                    created: t,
                    computer_name: base36_name(&prefix, id),
                },
            );
        }
    } else if target < live_n {
        let mut candidates: Vec<&Instance> = v
            .instances
            .values()
            .filter(|i| i.provisioning_state != "Deleting" && !i.protect_from_scale_set_actions)
            .collect();
        match policy.as_str() {
            "OldestVM" => candidates.sort_by_key(|i| (i.created, i.id)),
            // Default and NewestVM both remove the highest ids / newest first here
            _ => candidates.sort_by_key(|i| Reverse((i.created, i.id))),
        }
        let doomed: Vec<u32> = candidates
            .iter()
            .take((live_n - target) as usize)
            .map(|i| i.id)
            .collect();
        for id in doomed {
            if let Some(i) = v.instances.get_mut(&id) {
                i.provisioning_state = "Deleting".into();
            }
        }
    }
}

/// `reference()` / `listKeys()` answered from the state.
pub struct StateRuntime<'a> {
    /// The state.
    pub state: &'a State,
    /// The deployment's plan (to resolve names).
    pub plan: Option<&'a Plan>,
}

impl Runtime for StateRuntime<'_> {
    fn resolve(&self, name_or_id: &str) -> Option<String> {
        if name_or_id.starts_with("/subscriptions/") {
            return Some(name_or_id.to_string());
        }
        let plan = self.plan?;
        template::resolve_reference(&plan.resources, name_or_id)
            .map(|i| plan.resources[i].id.clone())
    }

    fn reference(&self, id: &str, full: bool) -> Option<Value> {
        let r = self.state.visible(&template::normalise_id(id))?;
        let body = self.state.render(r);
        if full {
            Some(body)
        } else {
            Some(body.get("properties").cloned().unwrap_or(json!({})))
        }
    }

    fn list(&self, function: &str, id: &str) -> Option<Value> {
        let r = self.state.visible(&template::normalise_id(id))?;
        if function == "listkeys" {
            storage_keys_body(self.state, r)
        } else {
            None
        }
    }
}

/// The `listKeys` body of a storage account.
pub fn storage_keys_body(state: &State, r: &Resource) -> Option<Value> {
    let keys = r.keys.as_ref()?;
    let created = state.clock.stamp(r.created);
    Some(json!({
        "keys": [
            {"keyName": "key1", "permissions": "Full", "value": keys[0], "creationTime": created},
            {"keyName": "key2", "permissions": "Full", "value": keys[1], "creationTime": created}
        ]
    }))
}

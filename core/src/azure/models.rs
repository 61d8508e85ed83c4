//! Serde models of the ARM resources dsvmpool reads and writes.
//!
//! Only the fields dsvmpool uses are typed; every model keeps the rest in `extra`
//! (`#[serde(flatten)]`), and optional fields are skipped when absent, so a GET followed by a
//! PUT of the same value sends back exactly what the service returned.
//!
//! Secret values (storage keys, deployment parameters) never appear in `Debug` output.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Unknown fields kept for round-trips.
pub type Extra = Map<String, Value>;

/// Tags of a resource.
pub type Tags = std::collections::BTreeMap<String, String>;

/// A string whose value is a secret: serialized as is, shown as `***` in `Debug`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret value (use it only where it is needed, never in messages).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

// ---- errors ---------------------------------------------------------------------------------

/// The ARM error envelope `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ArmErrorResponse {
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ArmError>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An ARM error (`code`, `message`, nested `details`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmError {
    /// Error code, e.g. `InvalidTemplateDeployment`.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// What the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Inner errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ArmError>>,
    /// Additional info entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<Vec<Value>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ArmError {
    /// `message` followed by the codes and messages of the innermost details, e.g.
    /// `The template deployment … (AccountNameInvalid: a is not a valid …)`.
    pub fn describe(&self) -> String {
        let mut leaves = Vec::new();
        fn walk<'a>(e: &'a ArmError, out: &mut Vec<&'a ArmError>) {
            match e.details.as_deref() {
                Some(d) if !d.is_empty() => d.iter().for_each(|x| walk(x, out)),
                _ => out.push(e),
            }
        }
        if let Some(d) = self.details.as_deref() {
            d.iter().for_each(|x| walk(x, &mut leaves));
        }
        let mut s = self.message.clone();
        if !leaves.is_empty() {
            let inner: Vec<String> = leaves
                .iter()
                .map(|l| match &l.target {
                    Some(t) => format!("{}: {} (target {t})", l.code, l.message),
                    None => format!("{}: {}", l.code, l.message),
                })
                .collect();
            s.push_str(" [");
            s.push_str(&inner.join("; "));
            s.push(']');
        }
        s
    }
}

/// A page of a list response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmList<T> {
    /// Items of this page.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// URL of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of an `Azure-AsyncOperation` status monitor.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// Operation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Operation name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `InProgress`, `Succeeded`, `Failed`, `Canceled` (any case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Start time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// End time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Progress, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<f64>,
    /// The failure, when `status` is `Failed` or `Canceled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ArmError>,
    /// Result properties of some actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Any ARM resource (for resources dsvmpool only creates through templates, reads by id, or
/// deletes).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericResource {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ProvisioningProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---- resource groups ------------------------------------------------------------------------

/// A resource group.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Region.
    #[serde(default)]
    pub location: String,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Id of the resource managing this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ProvisioningProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties carrying only a provisioning state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningProperties {
    /// `Succeeded`, `Deleting`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---- deployments ----------------------------------------------------------------------------

/// Deployment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DeploymentMode {
    /// Add and update; leave other resources alone.
    #[default]
    Incremental,
    /// Delete resources of the group that the template does not contain.
    Complete,
}

/// The body of a deployment PUT, validate or what-if.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRequest {
    /// Location (only for subscription-scope deployments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags of the deployment object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Properties.
    pub properties: DeploymentRequestProperties,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for DeploymentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentRequest")
            .field("location", &self.location)
            .field("mode", &self.properties.mode)
            .field(
                "template",
                &self.properties.template.as_ref().map(|_| "<template>"),
            )
            .field(
                "parameters",
                &self.properties.parameters.as_ref().map(|p| match p {
                    Value::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
                    _ => vec![],
                }),
            )
            .finish_non_exhaustive()
    }
}

impl DeploymentRequest {
    /// An incremental deployment of `template` with `parameters` (`{"name": {"value": …}}`).
    pub fn incremental(template: Value, parameters: Value) -> Self {
        Self {
            properties: DeploymentRequestProperties {
                mode: DeploymentMode::Incremental,
                template: Some(template),
                parameters: Some(parameters),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// Properties of a [`DeploymentRequest`].
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRequestProperties {
    /// Incremental or Complete.
    pub mode: DeploymentMode,
    /// Inline template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// Link to a template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_link: Option<Value>,
    /// Parameter values (may hold secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Link to parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters_link: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for DeploymentRequestProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentRequestProperties")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// A deployment as ARM reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Microsoft.Resources/deployments`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Location (subscription-scope deployments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<DeploymentProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Deployment {
    /// The provisioning state (`Accepted`, `Running`, `Succeeded`, `Failed`, …).
    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties.as_ref()?.provisioning_state.as_deref()
    }
}

/// Properties of a [`Deployment`].
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentProperties {
    /// Provisioning state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Correlation id of the deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Last change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// ISO 8601 duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<DeploymentMode>,
    /// Template outputs (`{"name": {"type", "value"}}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Value>,
    /// Resources created or updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_resources: Option<Vec<ResourceReference>>,
    /// Parameters as deployed (secure values are not returned by ARM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Hash of the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_hash: Option<String>,
    /// Failure, when `provisioningState` is `Failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ArmError>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for DeploymentProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentProperties")
            .field("provisioning_state", &self.provisioning_state)
            .field("correlation_id", &self.correlation_id)
            .field("timestamp", &self.timestamp)
            .field("duration", &self.duration)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// `{"id": …}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceReference {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One operation of a deployment (one resource being created or updated).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperation {
    /// Full id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Operation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<DeploymentOperationProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties of a [`DeploymentOperation`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperationProperties {
    /// `Create`, `Read`, `EvaluateDeploymentOutput`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_operation: Option<String>,
    /// Provisioning state of this resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Last change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// ISO 8601 duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Request id of the provider call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_request_id: Option<String>,
    /// HTTP status of the provider call, e.g. `Created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// Provider message (often `{"error": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<Value>,
    /// The resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_resource: Option<TargetResource>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The resource a deployment operation acts on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Resource name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Resource type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The result of a what-if.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfResult {
    /// Status of the what-if operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<WhatIfProperties>,
    /// Failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ArmError>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties of a [`WhatIfResult`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfProperties {
    /// Predicted changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<WhatIfChange>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One predicted change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfChange {
    /// Resource id.
    #[serde(default)]
    pub resource_id: String,
    /// `Create`, `Delete`, `Modify`, `NoChange`, `Ignore`, `Deploy`, `Unsupported`.
    #[serde(default)]
    pub change_type: String,
    /// State before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// State after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Property changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Vec<Value>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---- scale sets -----------------------------------------------------------------------------

/// SKU of a scale set or instance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sku {
    /// VM size, e.g. `Standard_D4s_v5`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Instance count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A virtual machine scale set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineScaleSet {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// SKU with `capacity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// ETag, for `If-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ScaleSetProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl VirtualMachineScaleSet {
    /// `sku.capacity`.
    pub fn capacity(&self) -> Option<u32> {
        self.sku.as_ref()?.capacity
    }
    /// `properties.provisioningState`.
    pub fn provisioning_state(&self) -> Option<&str> {
        self.properties.as_ref()?.provisioning_state.as_deref()
    }
}

/// Properties of a scale set that dsvmpool reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSetProperties {
    /// Provisioning state (any case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Unique id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// Everything else (`virtualMachineProfile`, `upgradePolicy`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of deallocate/start for some instances.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmInstanceIds {
    /// Instance ids.
    pub instance_ids: Vec<String>,
}

/// Instance protection of a scale-set instance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionPolicy {
    /// Autoscale scale-in skips this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protect_from_scale_in: Option<bool>,
    /// Scale-set actions (and scale-in) skip this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protect_from_scale_set_actions: Option<bool>,
}

/// One instance of a scale set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSetVm {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name, e.g. `pool_3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Instance id, e.g. `3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    /// ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ScaleSetVmProperties>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ScaleSetVm {
    /// Power state from the instance view, if it was expanded.
    pub fn power_state(&self) -> Option<PowerState> {
        self.properties
            .as_ref()?
            .instance_view
            .as_ref()?
            .power_state()
    }
    /// Instance protection.
    pub fn protection(&self) -> Option<&ProtectionPolicy> {
        self.properties.as_ref()?.protection_policy.as_ref()
    }
}

/// Properties of a [`ScaleSetVm`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSetVmProperties {
    /// Provisioning state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<String>,
    /// Whether the instance runs the latest scale-set model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_model_applied: Option<bool>,
    /// Instance protection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection_policy: Option<ProtectionPolicy>,
    /// Instance view (with `$expand=instanceView`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_view: Option<InstanceView>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Instance view of a VM.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Statuses, e.g. `ProvisioningState/succeeded`, `PowerState/running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<InstanceViewStatus>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InstanceView {
    /// The `PowerState/…` status.
    pub fn power_state(&self) -> Option<PowerState> {
        self.statuses
            .as_ref()?
            .iter()
            .filter_map(|s| s.code.as_deref())
            .find_map(|c| c.strip_prefix("PowerState/"))
            .map(PowerState::from_code)
    }
}

/// One status of an instance view.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceViewStatus {
    /// Code, e.g. `PowerState/running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Info`, `Warning`, `Error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Display text, e.g. `VM running`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_status: Option<String>,
    /// Message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Power state of a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    /// `starting`
    Starting,
    /// `running`
    Running,
    /// `stopping`
    Stopping,
    /// `stopped` (still billed)
    Stopped,
    /// `deallocating`
    Deallocating,
    /// `deallocated`
    Deallocated,
    /// Any other code.
    Other(String),
}

impl PowerState {
    /// From the part after `PowerState/` (case-insensitive).
    pub fn from_code(code: &str) -> Self {
        match code.to_ascii_lowercase().as_str() {
            "starting" => Self::Starting,
            "running" => Self::Running,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "deallocating" => Self::Deallocating,
            "deallocated" => Self::Deallocated,
            _ => Self::Other(code.to_string()),
        }
    }
}

// ---- autoscale ------------------------------------------------------------------------------

/// An autoscale setting (`Microsoft.Insights/autoscalesettings`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleSetting {
    /// Resource id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Region.
    #[serde(default)]
    pub location: String,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Properties.
    pub properties: AutoscaleSettingProperties,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Properties of an [`AutoscaleSetting`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleSettingProperties {
    /// Profiles (≤ 20).
    #[serde(default)]
    pub profiles: Vec<AutoscaleProfile>,
    /// Whether autoscale is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The scale set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_resource_uri: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Notifications, predictive policy and the rest.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One autoscale profile (rules kept as JSON; `crate::autoscale` interprets them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleProfile {
    /// Profile name.
    #[serde(default)]
    pub name: String,
    /// Instance limits.
    #[serde(default)]
    pub capacity: AutoscaleCapacity,
    /// Rules (≤ 10).
    #[serde(default)]
    pub rules: Vec<Value>,
    /// Fixed-date window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_date: Option<Value>,
    /// Recurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Capacity of a profile; the API carries the numbers as strings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AutoscaleCapacity {
    /// Minimum instance count.
    #[serde(default)]
    pub minimum: String,
    /// Maximum instance count.
    #[serde(default)]
    pub maximum: String,
    /// Default instance count.
    #[serde(default)]
    pub default: String,
}

impl AutoscaleCapacity {
    /// `(minimum, maximum, default)` as numbers, when all three parse.
    pub fn numbers(&self) -> Option<(u32, u32, u32)> {
        Some((
            self.minimum.trim().parse().ok()?,
            self.maximum.trim().parse().ok()?,
            self.default.trim().parse().ok()?,
        ))
    }
}

// ---- storage --------------------------------------------------------------------------------

/// Result of `listKeys`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StorageAccountKeys {
    /// The keys.
    #[serde(default)]
    pub keys: Vec<StorageAccountKey>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One storage account key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageAccountKey {
    /// `key1`, `key2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// `Full` or `Read`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<String>,
    /// The key (secret).
    #[serde(default)]
    pub value: SecretString,
    /// Creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_round_trip() {
        let v = json!({
            "id": "/x", "name": "pool", "location": "westus", "etag": "\"1\"",
            "sku": {"name": "Standard_D2s_v3", "capacity": 2, "tier": "Standard", "future": 1},
            "zones": ["1"],
            "properties": {"provisioningState": "Updating", "virtualMachineProfile": {"a": [1, 2.5]}}
        });
        let m: VirtualMachineScaleSet = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(m.capacity(), Some(2));
        assert_eq!(m.provisioning_state(), Some("Updating"));
        assert_eq!(serde_json::to_value(&m).unwrap(), v);
    }

    #[test]
    fn secrets_never_in_debug() {
        let k: StorageAccountKeys = serde_json::from_value(
            json!({"keys": [{"keyName": "key1", "permissions": "Full", "value": "c2VjcmV0a2V5"}]}),
        )
        .unwrap();
        let d = format!("{k:?}");
        assert!(!d.contains("c2VjcmV0a2V5"), "{d}");
        assert_eq!(k.keys[0].value.expose(), "c2VjcmV0a2V5");
        let r = DeploymentRequest::incremental(
            json!({"resources": []}),
            json!({"adminPassword": {"value": "Sup3r-secret"}}),
        );
        let d = format!("{r:?}");
        assert!(
            !d.contains("Sup3r-secret") && d.contains("adminPassword"),
            "{d}"
        );
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"properties": {"mode": "Incremental", "template": {"resources": []},
                   "parameters": {"adminPassword": {"value": "Sup3r-secret"}}}})
        );
    }

    #[test]
    fn power_state_and_error_description() {
        let vm: ScaleSetVm = serde_json::from_value(json!({
            "instanceId": "3",
            "properties": {"instanceView": {"statuses": [
                {"code": "ProvisioningState/succeeded"}, {"code": "PowerState/deallocated"}]},
                "protectionPolicy": {"protectFromScaleIn": true}}
        }))
        .unwrap();
        assert_eq!(vm.power_state(), Some(PowerState::Deallocated));
        assert_eq!(vm.protection().unwrap().protect_from_scale_in, Some(true));
        let e: ArmErrorResponse = serde_json::from_value(json!({"error": {
            "code": "InvalidTemplateDeployment", "message": "not valid.",
            "details": [{"code": "Preflight", "message": "m", "details": [
                {"code": "AccountNameInvalid", "message": "bad name", "target": "a"}]}]}}))
        .unwrap();
        assert_eq!(
            e.error.unwrap().describe(),
            "not valid. [AccountNameInvalid: bad name (target a)]"
        );
    }

    #[test]
    fn autoscale_capacity_numbers() {
        let c = AutoscaleCapacity {
            minimum: "0".into(),
            maximum: "10".into(),
            default: "1".into(),
        };
        assert_eq!(c.numbers(), Some((0, 10, 1)));
        let c = AutoscaleCapacity {
            minimum: "x".into(),
            ..c
        };
        assert_eq!(c.numbers(), None);
    }
}

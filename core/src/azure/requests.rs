//! Sans-IO request builders for the Azure Resource Manager calls dsvmpool makes.
//!
//! Every builder returns an [`ArmRequest`]: method, absolute URL (management endpoint + resource
//! path + `api-version`), headers and JSON body. Nothing here touches the network; the
//! [`client`](super::client) sends these values and the [`lro`](super::lro) poller consumes
//! [`ArmResponse`] values, so both are testable without I/O.
//!
//! Names are checked before they go into a URL path (no `/`, no `.`/`..` segment, no control
//! characters); a bad name is a validation error naming the field.

use super::models::{
    AutoscaleSetting, DeploymentRequest, ProtectionPolicy, ResourceGroup, VmInstanceIds,
};
use crate::error::{Diagnostic, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;
use url::Url;

/// The `api-version` of each resource provider, the same versions the rendered template and
/// the fixtures use.
pub mod api_version {
    /// `Microsoft.Resources` (resource groups, deployments).
    pub const RESOURCES: &str = "2024-03-01";
    /// `Microsoft.Compute` (scale sets and their instances).
    pub const COMPUTE: &str = "2024-07-01";
    /// `Microsoft.Network`.
    pub const NETWORK: &str = "2024-05-01";
    /// `Microsoft.Insights` (autoscale settings).
    pub const INSIGHTS: &str = "2022-10-01";
    /// `Microsoft.Storage`.
    pub const STORAGE: &str = "2023-05-01";
}

/// HTTP method of an ARM call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// Upper-case method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ARM call, ready to send (the client adds `Authorization` and a client request id).
///
/// `Debug` shows the method, URL, operation and header names, never the body (deployment
/// bodies can carry secure parameters).
#[derive(Clone, PartialEq)]
pub struct ArmRequest {
    /// HTTP method.
    pub method: Method,
    /// Absolute `https` URL including `api-version`.
    pub url: Url,
    /// Extra headers (`Content-Type`, `If-Match`, …).
    pub headers: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// What this call does, for messages and errors, e.g. `PUT deployment dsvmpool-team`.
    pub operation: String,
}

impl fmt::Debug for ArmRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ArmRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("operation", &self.operation)
            .field("headers", &header_names)
            .field("body", &self.body.as_ref().map(|_| "<json>"))
            .finish()
    }
}

impl ArmRequest {
    /// The value of a request header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The serialized body.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        self.body
            .as_ref()
            .map(|b| serde_json::to_vec(b).expect("a JSON value always serializes"))
    }

    /// The `api-version` query parameter.
    pub fn api_version(&self) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == "api-version")
            .map(|(_, v)| v.into_owned())
    }

    /// Which ARM throttling bucket this call draws from.
    pub fn class(&self) -> RequestClass {
        match self.method {
            Method::Get => RequestClass::Read,
            Method::Delete => RequestClass::Delete,
            _ => RequestClass::Write,
        }
    }

    fn with_body(mut self, body: Value) -> Self {
        self.headers
            .push(("Content-Type".into(), "application/json".into()));
        self.body = Some(body);
        self
    }
}

/// ARM throttling bucket of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestClass {
    /// GET
    Read,
    /// PUT, PATCH, POST
    Write,
    /// DELETE
    Delete,
}

/// An HTTP response as the client received it (sans-IO input of the poller and error mapping).
#[derive(Clone, Default, PartialEq)]
pub struct ArmResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
}

impl fmt::Debug for ArmResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body can hold storage keys: show only its size.
        f.debug_struct("ArmResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl ArmResponse {
    /// A response with a JSON body.
    pub fn json(status: u16, headers: &[(&str, &str)], body: &Value) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: serde_json::to_vec(body).expect("a JSON value always serializes"),
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// 2xx?
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The delay the service asked for: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds)
    /// or `Retry-After` (seconds). `None` when absent or unparsable.
    pub fn retry_after(&self) -> Option<Duration> {
        for h in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let Some(ms) = self.header(h).and_then(parse_non_negative) {
                return Some(Duration::from_secs_f64(ms / 1000.0));
            }
        }
        self.header("retry-after")
            .and_then(parse_non_negative)
            .map(Duration::from_secs_f64)
    }

    /// `x-ms-request-id`, else `x-ms-correlation-request-id`.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-ms-request-id")
            .or_else(|| self.header("x-ms-correlation-request-id"))
            .filter(|s| !s.is_empty())
    }

    /// The body parsed as JSON (`None` when empty or not JSON).
    pub fn json_body(&self) -> Option<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body deserialized into `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, operation: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Http {
            operation: operation.to_string(),
            status: self.status,
            code: "InvalidResponseBody".into(),
            message: format!("the response body is not the expected JSON: {e}"),
            request_id: self.request_id().unwrap_or_default().to_string(),
            kind: crate::ErrorKind::Http,
        })
    }
}

fn parse_non_negative(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Checks that `url` is `https` (bearer tokens never travel over plain http).
pub fn require_https(url: &Url, what: &str) -> Result<()> {
    if url.scheme() != "https" {
        return Err(Error::invalid(
            Diagnostic::error(
                what,
                "https-only",
                format!(
                    "`{url}` is not an https URL; dsvmpool never sends credentials over plain http"
                ),
            )
            .hint("use an https:// endpoint"),
        ));
    }
    if url.host_str().is_none() {
        return Err(Error::invalid(Diagnostic::error(
            what,
            "url",
            format!("`{url}` has no host"),
        )));
    }
    Ok(())
}

/// Checks an ARM name before it goes into a URL path segment.
pub fn check_name(field: &str, value: &str) -> Result<()> {
    let bad = if value.is_empty() {
        Some("must not be empty")
    } else if value == "." || value == ".." {
        Some("must not be `.` or `..`")
    } else if value.contains(['/', '\\', '?', '#']) {
        Some("must not contain `/`, `\\`, `?` or `#`")
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else if value.len() > 260 {
        Some("is longer than 260 characters")
    } else {
        None
    };
    match bad {
        Some(why) => Err(Error::invalid(Diagnostic::error(
            field,
            "arm-name",
            format!("`{value}` {why}"),
        ))),
        None => Ok(()),
    }
}

/// Builds the requests of one subscription on one management endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmRequests {
    endpoint: Url,
    subscription: String,
}

impl ArmRequests {
    /// Requests against `management_endpoint` (e.g. `https://management.azure.com/`) for the
    /// subscription `subscription_id`. The endpoint must be https.
    pub fn new(management_endpoint: &Url, subscription_id: &str) -> Result<Self> {
        require_https(management_endpoint, "management_endpoint")?;
        check_name("subscription_id", subscription_id)?;
        let mut endpoint = management_endpoint.clone();
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        if !endpoint.path().ends_with('/') {
            let p = format!("{}/", endpoint.path());
            endpoint.set_path(&p);
        }
        Ok(Self {
            endpoint,
            subscription: subscription_id.to_string(),
        })
    }

    /// The management endpoint (always ends with `/`).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The subscription id.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}` (the resource id of a group).
    pub fn resource_group_id(&self, resource_group: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}",
            self.subscription, resource_group
        )
    }

    /// Resource id of a resource `provider/type/name[/child/name…]` in a group.
    pub fn resource_id(&self, resource_group: &str, provider_path: &[&str]) -> String {
        let mut id = self.resource_group_id(resource_group);
        id.push_str("/providers");
        for seg in provider_path {
            id.push('/');
            id.push_str(seg);
        }
        id
    }

    fn url(&self, segments: &[&str], api_version: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("an https URL always has a path");
            path.pop_if_empty();
            path.extend(segments);
        }
        // Keys are literals of this module (`api-version`, `$expand`) and are sent as they are,
        // like the Azure SDKs do; values are form-encoded.
        let mut q = format!("api-version={}", enc(api_version));
        for (k, v) in query {
            q.push('&');
            q.push_str(k);
            q.push('=');
            q.push_str(&enc(v));
        }
        url.set_query(Some(&q));
        url
    }

    fn rg_segments<'a>(&'a self, rg: &'a str) -> Vec<&'a str> {
        vec!["subscriptions", &self.subscription, "resourceGroups", rg]
    }

    fn provider<'a>(&'a self, rg: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
        let mut s = self.rg_segments(rg);
        s.push("providers");
        s.extend_from_slice(rest);
        s
    }

    fn req(&self, method: Method, url: Url, operation: String) -> ArmRequest {
        ArmRequest {
            method,
            url,
            headers: vec![("Accept".into(), "application/json".into())],
            body: None,
            operation,
        }
    }

    // ---- resource groups ------------------------------------------------------------------

    /// `PUT` a resource group (create or update; idempotent).
    pub fn resource_group_put(&self, name: &str, group: &ResourceGroup) -> Result<ArmRequest> {
        check_name("resource_group", name)?;
        let url = self.url(&self.rg_segments(name), api_version::RESOURCES, &[]);
        Ok(self
            .req(Method::Put, url, format!("PUT resource group {name}"))
            .with_body(to_value(group)?))
    }

    /// `GET` a resource group.
    pub fn resource_group_get(&self, name: &str) -> Result<ArmRequest> {
        check_name("resource_group", name)?;
        let url = self.url(&self.rg_segments(name), api_version::RESOURCES, &[]);
        Ok(self.req(Method::Get, url, format!("GET resource group {name}")))
    }

    /// `DELETE` a resource group and everything in it (long-running: 202 + `Location`).
    pub fn resource_group_delete(&self, name: &str) -> Result<ArmRequest> {
        check_name("resource_group", name)?;
        let url = self.url(&self.rg_segments(name), api_version::RESOURCES, &[]);
        Ok(self.req(Method::Delete, url, format!("DELETE resource group {name}")))
    }

    // ---- deployments ----------------------------------------------------------------------

    fn deployment_url(&self, rg: &str, name: &str, action: Option<&str>) -> Result<Url> {
        check_name("resource_group", rg)?;
        check_name("deployment", name)?;
        let mut segs = self.provider(rg, &["Microsoft.Resources", "deployments", name]);
        if let Some(a) = action {
            segs.push(a);
        }
        Ok(self.url(&segs, api_version::RESOURCES, &[]))
    }

    /// `POST …/deployments/{name}/validate` (200/400, or 202 + `Location` on newer services).
    pub fn deployment_validate(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, Some("validate"))?;
        Ok(self
            .req(Method::Post, url, format!("validate deployment {name}"))
            .with_body(to_value(deployment)?))
    }

    /// `POST …/deployments/{name}/whatIf` (202 + `Location`; the result is at the `Location`).
    pub fn deployment_what_if(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, Some("whatIf"))?;
        Ok(self
            .req(Method::Post, url, format!("what-if deployment {name}"))
            .with_body(to_value(deployment)?))
    }

    /// `PUT …/deployments/{name}` (201 + `Azure-AsyncOperation`).
    pub fn deployment_put(
        &self,
        resource_group: &str,
        name: &str,
        deployment: &DeploymentRequest,
    ) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, None)?;
        Ok(self
            .req(Method::Put, url, format!("PUT deployment {name}"))
            .with_body(to_value(deployment)?))
    }

    /// `GET …/deployments/{name}`.
    pub fn deployment_get(&self, resource_group: &str, name: &str) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, None)?;
        Ok(self.req(Method::Get, url, format!("GET deployment {name}")))
    }

    /// `GET …/deployments/{name}/operations` (paged with `nextLink`).
    pub fn deployment_operations(&self, resource_group: &str, name: &str) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, Some("operations"))?;
        Ok(self.req(
            Method::Get,
            url,
            format!("list operations of deployment {name}"),
        ))
    }

    /// `POST …/deployments/{name}/cancel` (only while the deployment runs; 204).
    pub fn deployment_cancel(&self, resource_group: &str, name: &str) -> Result<ArmRequest> {
        let url = self.deployment_url(resource_group, name, Some("cancel"))?;
        Ok(self.req(Method::Post, url, format!("cancel deployment {name}")))
    }

    // ---- scale sets -----------------------------------------------------------------------

    fn vmss_url(&self, rg: &str, vmss: &str, rest: &[&str], query: &[(&str, &str)]) -> Result<Url> {
        check_name("resource_group", rg)?;
        check_name("scale_set", vmss)?;
        let mut segs = self.provider(rg, &["Microsoft.Compute", "virtualMachineScaleSets", vmss]);
        segs.extend_from_slice(rest);
        Ok(self.url(&segs, api_version::COMPUTE, query))
    }

    /// `GET` a scale set (the response carries `etag`, `sku.capacity`, `provisioningState`).
    pub fn scale_set_get(&self, resource_group: &str, scale_set: &str) -> Result<ArmRequest> {
        let url = self.vmss_url(resource_group, scale_set, &[], &[])?;
        Ok(self.req(Method::Get, url, format!("GET scale set {scale_set}")))
    }

    /// `PATCH` the scale set's `sku.capacity`. With `if_match` (the ETag of the last GET) a
    /// concurrent change fails with 412 instead of being overwritten.
    pub fn scale_set_update_capacity(
        &self,
        resource_group: &str,
        scale_set: &str,
        capacity: u32,
        if_match: Option<&str>,
    ) -> Result<ArmRequest> {
        if capacity > 1000 {
            return Err(Error::invalid(Diagnostic::error(
                "capacity",
                "capacity-range",
                format!("capacity {capacity} is outside 0–1000"),
            )));
        }
        let url = self.vmss_url(resource_group, scale_set, &[], &[])?;
        let mut r = self
            .req(
                Method::Patch,
                url,
                format!("scale {scale_set} to {capacity}"),
            )
            .with_body(json!({"sku": {"capacity": capacity}}));
        if let Some(etag) = if_match {
            r.headers.push(("If-Match".into(), etag.to_string()));
        }
        Ok(r)
    }

    fn vmss_action(
        &self,
        rg: &str,
        vmss: &str,
        action: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<ArmRequest> {
        let url = self.vmss_url(rg, vmss, &[action], &[])?;
        let mut r = self.req(Method::Post, url, format!("{action} scale set {vmss}"));
        if let Some(ids) = instance_ids {
            for id in ids {
                check_name("instance_ids", id)?;
            }
            r = r.with_body(to_value(&VmInstanceIds {
                instance_ids: ids.to_vec(),
            })?);
        }
        Ok(r)
    }

    /// `POST …/deallocate` (all instances, or only `instance_ids`; 202 + `Location`).
    pub fn scale_set_deallocate(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<ArmRequest> {
        self.vmss_action(resource_group, scale_set, "deallocate", instance_ids)
    }

    /// `POST …/start` (all instances, or only `instance_ids`; 202 + `Location`).
    pub fn scale_set_start(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_ids: Option<&[String]>,
    ) -> Result<ArmRequest> {
        self.vmss_action(resource_group, scale_set, "start", instance_ids)
    }

    /// `GET …/virtualMachines` (paged), with `$expand=instanceView` when `instance_view`.
    pub fn scale_set_instances(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_view: bool,
    ) -> Result<ArmRequest> {
        let query: &[(&str, &str)] = if instance_view {
            &[("$expand", "instanceView")]
        } else {
            &[]
        };
        let url = self.vmss_url(resource_group, scale_set, &["virtualMachines"], query)?;
        Ok(self.req(
            Method::Get,
            url,
            format!("list instances of scale set {scale_set}"),
        ))
    }

    /// `GET …/virtualMachines/{instance}/instanceView`.
    pub fn scale_set_instance_view(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_id: &str,
    ) -> Result<ArmRequest> {
        check_name("instance_id", instance_id)?;
        let url = self.vmss_url(
            resource_group,
            scale_set,
            &["virtualMachines", instance_id, "instanceView"],
            &[],
        )?;
        Ok(self.req(
            Method::Get,
            url,
            format!("GET instance view {scale_set}/{instance_id}"),
        ))
    }

    /// Sets the instance protection of one instance: `PUT …/virtualMachines/{instance}` with
    /// only `properties.protectionPolicy` (the documented partial update).
    pub fn scale_set_instance_protection(
        &self,
        resource_group: &str,
        scale_set: &str,
        instance_id: &str,
        policy: &ProtectionPolicy,
    ) -> Result<ArmRequest> {
        check_name("instance_id", instance_id)?;
        let url = self.vmss_url(
            resource_group,
            scale_set,
            &["virtualMachines", instance_id],
            &[],
        )?;
        Ok(self
            .req(
                Method::Put,
                url,
                format!("set protection of {scale_set}/{instance_id}"),
            )
            .with_body(json!({"properties": {"protectionPolicy": to_value(policy)?}})))
    }

    // ---- autoscale ------------------------------------------------------------------------

    fn autoscale_url(&self, rg: &str, name: &str) -> Result<Url> {
        check_name("resource_group", rg)?;
        check_name("autoscale_setting", name)?;
        let segs = self.provider(rg, &["Microsoft.Insights", "autoscalesettings", name]);
        Ok(self.url(&segs, api_version::INSIGHTS, &[]))
    }

    /// `GET` an autoscale setting.
    pub fn autoscale_get(&self, resource_group: &str, name: &str) -> Result<ArmRequest> {
        let url = self.autoscale_url(resource_group, name)?;
        Ok(self.req(Method::Get, url, format!("GET autoscale setting {name}")))
    }

    /// `PUT` an autoscale setting (synchronous: 200/201).
    pub fn autoscale_put(
        &self,
        resource_group: &str,
        name: &str,
        setting: &AutoscaleSetting,
    ) -> Result<ArmRequest> {
        let url = self.autoscale_url(resource_group, name)?;
        Ok(self
            .req(Method::Put, url, format!("PUT autoscale setting {name}"))
            .with_body(to_value(setting)?))
    }

    // ---- storage --------------------------------------------------------------------------

    /// `POST …/storageAccounts/{account}/listKeys`.
    pub fn storage_list_keys(&self, resource_group: &str, account: &str) -> Result<ArmRequest> {
        check_name("resource_group", resource_group)?;
        check_name("storage_account", account)?;
        let segs = self.provider(
            resource_group,
            &["Microsoft.Storage", "storageAccounts", account, "listKeys"],
        );
        let url = self.url(&segs, api_version::STORAGE, &[]);
        Ok(self.req(Method::Post, url, format!("list keys of {account}")))
    }

    // ---- generic --------------------------------------------------------------------------

    /// Resolves a resource id (`/subscriptions/…`) to its URL with `api-version`.
    pub fn resource_url(&self, resource_id: &str, api_version: &str) -> Result<Url> {
        let segs: Vec<&str> = resource_id
            .strip_prefix('/')
            .unwrap_or(resource_id)
            .split('/')
            .collect();
        if segs
            .first()
            .map(|s| s.eq_ignore_ascii_case("subscriptions"))
            != Some(true)
            || segs.len() < 2
        {
            return Err(Error::invalid(Diagnostic::error(
                "resource_id",
                "resource-id",
                format!("`{resource_id}` is not an ARM resource id (/subscriptions/…)"),
            )));
        }
        for s in &segs {
            check_name("resource_id", s)?;
        }
        Ok(self.url(&segs, api_version, &[]))
    }

    /// `GET` any resource by id.
    pub fn get_resource(&self, resource_id: &str, api_version: &str) -> Result<ArmRequest> {
        let url = self.resource_url(resource_id, api_version)?;
        Ok(self.req(Method::Get, url, format!("GET {}", short_id(resource_id))))
    }

    /// `DELETE` any resource by id (long-running when the provider answers 202).
    pub fn delete_resource(&self, resource_id: &str, api_version: &str) -> Result<ArmRequest> {
        let url = self.resource_url(resource_id, api_version)?;
        Ok(self.req(
            Method::Delete,
            url,
            format!("DELETE {}", short_id(resource_id)),
        ))
    }

    /// `GET` an absolute or endpoint-relative URL the service returned (`nextLink`, status
    /// monitors). The URL must be https and on the management endpoint's host: a bearer token
    /// is never sent anywhere else.
    pub fn get_url(&self, url: &str, operation: impl Into<String>) -> Result<ArmRequest> {
        let url = self.resolve(url)?;
        Ok(self.req(Method::Get, url, operation.into()))
    }

    /// Resolves a URL the service returned against the management endpoint and checks that it
    /// stays on that endpoint (scheme, host and port).
    pub fn resolve(&self, url: &str) -> Result<Url> {
        let resolved = self.endpoint.join(url.trim()).map_err(|e| {
            Error::invalid(Diagnostic::error(
                "url",
                "url",
                format!("the service returned an invalid URL `{url}`: {e}"),
            ))
        })?;
        require_https(&resolved, "url")?;
        if resolved.host_str() != self.endpoint.host_str()
            || resolved.port_or_known_default() != self.endpoint.port_or_known_default()
        {
            return Err(Error::invalid(
                Diagnostic::error(
                    "url",
                    "same-endpoint",
                    format!(
                        "the service returned `{resolved}`, which is not on the management \
                         endpoint {}; dsvmpool does not send credentials to other hosts",
                        self.endpoint
                    ),
                )
                .hint("check the management endpoint setting"),
            ));
        }
        Ok(resolved)
    }
}

/// The last two segments of a resource id (`type/name`), for messages.
pub fn short_id(resource_id: &str) -> String {
    let segs: Vec<&str> = resource_id
        .trim_end_matches('/')
        .rsplit('/')
        .take(2)
        .collect();
    segs.into_iter().rev().collect::<Vec<_>>().join("/")
}

fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn to_value<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(format!("request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn reqs() -> ArmRequests {
        ArmRequests::new(
            &Url::parse("https://management.azure.com").unwrap(),
            "00000000-0000-0000-0000-000000000001",
        )
        .unwrap()
    }

    const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

    #[test]
    fn refuses_plain_http_endpoint() {
        let e = ArmRequests::new(&Url::parse("http://127.0.0.1:8080/").unwrap(), "s").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.to_string().contains("https-only"), "{e}");
    }

    #[test]
    fn endpoint_with_path_keeps_path() {
        let r = ArmRequests::new(&Url::parse("https://127.0.0.1:9443/arm").unwrap(), "s").unwrap();
        let q = r.resource_group_get("rg").unwrap();
        assert_eq!(
            q.url.as_str(),
            "https://127.0.0.1:9443/arm/subscriptions/s/resourceGroups/rg?api-version=2024-03-01"
        );
    }

    #[test]
    fn resource_group_requests() {
        let r = reqs();
        let put = r
            .resource_group_put(
                "team-rg",
                &serde_json::from_value(json!({"location": "westeurope", "tags": {"a": "b"}}))
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(put.method, Method::Put);
        assert_eq!(
            put.url.as_str(),
            format!(
                "https://management.azure.com{SUB}/resourceGroups/team-rg?api-version=2024-03-01"
            )
        );
        assert_eq!(put.header("content-type"), Some("application/json"));
        assert_eq!(
            put.body,
            Some(json!({"location": "westeurope", "tags": {"a": "b"}}))
        );
        assert_eq!(put.operation, "PUT resource group team-rg");
        assert_eq!(put.class(), RequestClass::Write);

        let get = r.resource_group_get("team-rg").unwrap();
        assert_eq!(get.method, Method::Get);
        assert!(get.body.is_none());
        assert_eq!(get.class(), RequestClass::Read);
        let del = r.resource_group_delete("team-rg").unwrap();
        assert_eq!(del.method, Method::Delete);
        assert_eq!(del.class(), RequestClass::Delete);
        assert_eq!(del.url, get.url);
    }

    #[test]
    fn deployment_requests() {
        let r = reqs();
        let body: DeploymentRequest = serde_json::from_value(json!({
            "properties": {"mode": "Incremental", "template": {"resources": []},
                           "parameters": {"adminPassword": {"value": "s3cret!"}}}
        }))
        .unwrap();
        let base = format!(
            "https://management.azure.com{SUB}/resourceGroups/rg/providers/Microsoft.Resources/deployments/dsvmpool-team"
        );
        let v = r.deployment_validate("rg", "dsvmpool-team", &body).unwrap();
        assert_eq!(v.method, Method::Post);
        assert_eq!(
            v.url.as_str(),
            format!("{base}/validate?api-version=2024-03-01")
        );
        let w = r.deployment_what_if("rg", "dsvmpool-team", &body).unwrap();
        assert_eq!(
            w.url.as_str(),
            format!("{base}/whatIf?api-version=2024-03-01")
        );
        let p = r.deployment_put("rg", "dsvmpool-team", &body).unwrap();
        assert_eq!(p.method, Method::Put);
        assert_eq!(p.url.as_str(), format!("{base}?api-version=2024-03-01"));
        assert_eq!(
            p.body.as_ref().unwrap()["properties"]["mode"],
            "Incremental"
        );
        // Debug never shows the body (secure parameters).
        assert!(!format!("{p:?}").contains("s3cret"));
        let g = r.deployment_get("rg", "dsvmpool-team").unwrap();
        assert_eq!(g.method, Method::Get);
        let o = r.deployment_operations("rg", "dsvmpool-team").unwrap();
        assert_eq!(
            o.url.as_str(),
            format!("{base}/operations?api-version=2024-03-01")
        );
        let c = r.deployment_cancel("rg", "dsvmpool-team").unwrap();
        assert_eq!(
            c.url.as_str(),
            format!("{base}/cancel?api-version=2024-03-01")
        );
    }

    #[test]
    fn scale_set_requests() {
        let r = reqs();
        let base = format!(
            "https://management.azure.com{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool"
        );
        assert_eq!(
            r.scale_set_get("rg", "pool").unwrap().url.as_str(),
            format!("{base}?api-version=2024-07-01")
        );
        let p = r
            .scale_set_update_capacity("rg", "pool", 5, Some("W/\"abc\""))
            .unwrap();
        assert_eq!(p.method, Method::Patch);
        assert_eq!(p.body, Some(json!({"sku": {"capacity": 5}})));
        assert_eq!(p.header("if-match"), Some("W/\"abc\""));
        let p = r.scale_set_update_capacity("rg", "pool", 0, None).unwrap();
        assert_eq!(p.header("if-match"), None);
        assert!(
            r.scale_set_update_capacity("rg", "pool", 1001, None)
                .is_err()
        );

        let d = r.scale_set_deallocate("rg", "pool", None).unwrap();
        assert_eq!(d.method, Method::Post);
        assert_eq!(
            d.url.as_str(),
            format!("{base}/deallocate?api-version=2024-07-01")
        );
        assert!(d.body.is_none());
        let ids = vec!["0".to_string(), "3".to_string()];
        let s = r.scale_set_start("rg", "pool", Some(&ids)).unwrap();
        assert_eq!(
            s.url.as_str(),
            format!("{base}/start?api-version=2024-07-01")
        );
        assert_eq!(s.body, Some(json!({"instanceIds": ["0", "3"]})));

        let l = r.scale_set_instances("rg", "pool", true).unwrap();
        assert_eq!(
            l.url.as_str(),
            format!("{base}/virtualMachines?api-version=2024-07-01&$expand=instanceView")
        );
        assert_eq!(
            l.url.query_pairs().find(|(k, _)| k == "$expand").unwrap().1,
            "instanceView"
        );
        let l = r.scale_set_instances("rg", "pool", false).unwrap();
        assert_eq!(
            l.url.as_str(),
            format!("{base}/virtualMachines?api-version=2024-07-01")
        );

        let pp = r
            .scale_set_instance_protection(
                "rg",
                "pool",
                "3",
                &ProtectionPolicy {
                    protect_from_scale_in: Some(true),
                    protect_from_scale_set_actions: Some(false),
                },
            )
            .unwrap();
        assert_eq!(pp.method, Method::Put);
        assert_eq!(
            pp.url.as_str(),
            format!("{base}/virtualMachines/3?api-version=2024-07-01")
        );
        assert_eq!(
            pp.body,
            Some(json!({"properties": {"protectionPolicy":
                {"protectFromScaleIn": true, "protectFromScaleSetActions": false}}}))
        );
        let iv = r.scale_set_instance_view("rg", "pool", "3").unwrap();
        assert_eq!(
            iv.url.as_str(),
            format!("{base}/virtualMachines/3/instanceView?api-version=2024-07-01")
        );
    }

    #[test]
    fn autoscale_and_storage_requests() {
        let r = reqs();
        let g = r.autoscale_get("rg", "pool-autoscale").unwrap();
        assert_eq!(
            g.url.as_str(),
            format!(
                "https://management.azure.com{SUB}/resourceGroups/rg/providers/Microsoft.Insights/autoscalesettings/pool-autoscale?api-version=2022-10-01"
            )
        );
        let setting: AutoscaleSetting = serde_json::from_value(json!({
            "location": "westeurope",
            "properties": {"enabled": true, "profiles": [], "targetResourceUri": "/x"}
        }))
        .unwrap();
        let p = r.autoscale_put("rg", "pool-autoscale", &setting).unwrap();
        assert_eq!(p.method, Method::Put);
        assert_eq!(
            p.body.as_ref().unwrap()["properties"]["targetResourceUri"],
            "/x"
        );
        let k = r.storage_list_keys("rg", "teamfiles").unwrap();
        assert_eq!(k.method, Method::Post);
        assert_eq!(
            k.url.as_str(),
            format!(
                "https://management.azure.com{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/teamfiles/listKeys?api-version=2023-05-01"
            )
        );
    }

    #[test]
    fn generic_requests_and_ids() {
        let r = reqs();
        let id = r.resource_id("rg", &["Microsoft.Network", "loadBalancers", "lb"]);
        assert_eq!(
            id,
            format!("{SUB}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb")
        );
        let d = r.delete_resource(&id, api_version::NETWORK).unwrap();
        assert_eq!(d.method, Method::Delete);
        assert_eq!(
            d.url.as_str(),
            format!("https://management.azure.com{id}?api-version=2024-05-01")
        );
        assert_eq!(d.operation, "DELETE loadBalancers/lb");
        assert!(r.delete_resource("/providers/x", "1").is_err());
        assert!(r.delete_resource(&format!("{id}/../../x"), "1").is_err());
        assert!(r.get_resource(&id, api_version::NETWORK).is_ok());
    }

    #[test]
    fn names_are_checked() {
        let r = reqs();
        for bad in ["", "..", "a/b", "a?b", "a#b", "a\nb"] {
            let e = r.resource_group_get(bad).unwrap_err();
            let v = e.validation().expect("validation error");
            assert_eq!(v.errors[0].path, "resource_group");
            assert_eq!(v.errors[0].rule, "arm-name");
        }
        let e = r.scale_set_get("rg", "x/y").unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].path, "scale_set");
        // Names with spaces or unicode are percent-encoded, not rejected.
        let g = r.resource_group_get("my rg ü").unwrap();
        assert!(g.url.as_str().contains("/resourceGroups/my%20rg%20%C3%BC?"));
    }

    #[test]
    fn resolves_service_urls_on_the_endpoint_only() {
        let r = reqs();
        let rel = r
            .resolve("/subscriptions/x/operationResults/abc?api-version=2024-03-01")
            .unwrap();
        assert_eq!(
            rel.as_str(),
            "https://management.azure.com/subscriptions/x/operationResults/abc?api-version=2024-03-01"
        );
        assert!(r.resolve("https://management.azure.com/x").is_ok());
        assert!(r.resolve("https://MANAGEMENT.azure.com:443/x").is_ok());
        for bad in [
            "http://management.azure.com/x",
            "https://evil.example/x",
            "https://management.azure.com:8443/x",
        ] {
            assert!(r.resolve(bad).is_err(), "{bad}");
        }
        let g = r.get_url("/subscriptions/x/next?page=2", "list").unwrap();
        assert_eq!(g.method, Method::Get);
    }

    #[test]
    fn response_helpers() {
        let r = ArmResponse::json(
            429,
            &[
                ("Retry-After", " 17 "),
                ("x-ms-correlation-request-id", "corr"),
            ],
            &json!({}),
        );
        assert_eq!(r.retry_after(), Some(Duration::from_secs(17)));
        assert_eq!(r.request_id(), Some("corr"));
        let r = ArmResponse::json(
            429,
            &[
                ("retry-after-ms", "1500"),
                ("Retry-After", "2"),
                ("x-ms-request-id", "rid"),
            ],
            &json!({}),
        );
        assert_eq!(r.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(r.request_id(), Some("rid"));
        let r = ArmResponse::json(503, &[("Retry-After", "soon")], &json!({}));
        assert_eq!(r.retry_after(), None);
        let r = ArmResponse::json(503, &[("Retry-After", "-3")], &json!({}));
        assert_eq!(r.retry_after(), None);
        let empty = ArmResponse {
            status: 204,
            ..Default::default()
        };
        assert_eq!(empty.json_body(), None);
        assert!(empty.is_success());
    }

    #[test]
    fn short_ids() {
        assert_eq!(
            short_id("/subscriptions/s/resourceGroups/rg"),
            "resourceGroups/rg"
        );
        assert_eq!(short_id("x"), "x");
    }
}

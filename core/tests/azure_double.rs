//! The ARM client end to end against the ARM test double (`tests/arm-double`): a local HTTPS
//! server with a throwaway CA and a client-secret token endpoint. The client trusts that CA
//! only through `ClientConfig::test_ca_pem`, authenticates with `azure_identity`'s
//! client-secret credential, and meets each fault class the double can inject.

use dsvmpool::ErrorKind;
use dsvmpool::azure::client::ClientEvent;
use dsvmpool::azure::models::{
    DeploymentRequest, PowerState, ProtectionPolicy, ResourceGroup, SecretString,
};
use dsvmpool::azure::{
    ArmClient, AuthMethod, AuthOptions, ClientConfig, CloudEndpoints, LroOptions, PollStatus,
    RetryPolicy, api_version,
};
use dsvmpool_arm_double::{ArmDouble, Config, FaultAction, FaultRule, RequestKind, Running};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

const RG: &str = "rg-team";

/// A fast double: one simulated second lasts a millisecond.
fn double() -> Running {
    let c = Config {
        time_scale: 0.001,
        ..Default::default()
    };
    ArmDouble::start(c).expect("the ARM test double starts")
}

type Events = Arc<Mutex<Vec<ClientEvent>>>;

fn config(d: &Running) -> ClientConfig {
    let mut cfg = ClientConfig::new(d.subscription_id.clone());
    cfg.cloud = CloudEndpoints::custom(
        Url::parse(&d.management_url).unwrap(),
        Url::parse(&d.token_authority_url).unwrap(),
    )
    .unwrap();
    cfg.auth = AuthOptions {
        method: AuthMethod::Environment,
        tenant_id: Some(d.tenant_id.clone()),
        client_id: Some(d.client_id.clone()),
        client_secret: Some(SecretString::new(d.client_secret.clone())),
        federated_token_file: None,
    };
    cfg.test_ca_pem = Some(d.ca_pem.as_bytes().to_vec());
    cfg.retry = RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        budget: Duration::from_secs(30),
        attempt_timeout: Duration::from_secs(10),
        ..Default::default()
    };
    cfg.lro = LroOptions {
        default_poll_interval: Duration::from_millis(200),
        max_wait: Some(Duration::from_secs(60)),
    };
    cfg
}

fn client(d: &Running) -> (ArmClient, Events) {
    let events: Events = Arc::default();
    let ev = events.clone();
    let mut cfg = config(d);
    cfg.events = Some(Arc::new(move |e: &ClientEvent| {
        ev.lock().unwrap().push(e.clone())
    }));
    (ArmClient::new(cfg).expect("client"), events)
}

fn group() -> ResourceGroup {
    serde_json::from_value(json!({"location": "westeurope", "tags": {"app": "dsvmpool"}})).unwrap()
}

/// A small pool: VNet and public IP in parallel, a load balancer after the IP, a storage
/// account, a scale set after the VNet and the load balancer, autoscale after the scale set.
fn template() -> Value {
    json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "prefix": {"type": "string"},
            "capacity": {"type": "int", "defaultValue": 2},
            "adminPassword": {"type": "securestring"}
        },
        "variables": {
            "vnet": "[concat(parameters('prefix'), '-vnet')]",
            "pip": "[concat(parameters('prefix'), '-pip')]",
            "lb": "[concat(parameters('prefix'), '-lb')]",
            "vmss": "[concat(parameters('prefix'), '-vmss')]"
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-05-01",
                "name": "[variables('vnet')]", "location": "[resourceGroup().location]",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                               "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}
            },
            {
                "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2024-05-01",
                "name": "[variables('pip')]", "location": "[resourceGroup().location]",
                "sku": {"name": "Standard"},
                "properties": {"publicIPAllocationMethod": "Static",
                               "dnsSettings": {"domainNameLabel": "[toLower(parameters('prefix'))]"}}
            },
            {
                "type": "Microsoft.Network/loadBalancers", "apiVersion": "2024-05-01",
                "name": "[variables('lb')]", "location": "[resourceGroup().location]",
                "sku": {"name": "Standard"},
                "dependsOn": ["[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"],
                "properties": {"frontendIPConfigurations": [{"name": "fe", "properties":
                    {"publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))]"}}}]}
            },
            {
                "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                "name": "[toLower(concat('st', uniqueString(resourceGroup().id)))]",
                "location": "[resourceGroup().location]",
                "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
                "properties": {"minimumTlsVersion": "TLS1_2"}
            },
            {
                "type": "Microsoft.Compute/virtualMachineScaleSets", "apiVersion": "2024-07-01",
                "name": "[variables('vmss')]", "location": "[resourceGroup().location]",
                "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', variables('vnet'))]", "[variables('lb')]"],
                "sku": {"name": "Standard_D4s_v5", "tier": "Standard", "capacity": "[parameters('capacity')]"},
                "properties": {
                    "overprovision": false,
                    "upgradePolicy": {"mode": "Manual"},
                    "virtualMachineProfile": {
                        "osProfile": {"computerNamePrefix": "[parameters('prefix')]", "adminUsername": "pooladmin",
                                      "adminPassword": "[parameters('adminPassword')]"},
                        "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {
                            "primary": true,
                            "ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id":
                                "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), 'default')]"}}}]}}]}
                    }
                }
            },
            {
                "type": "Microsoft.Insights/autoscalesettings", "apiVersion": "2022-10-01",
                "name": "[concat(variables('vmss'), '-autoscale')]", "location": "[resourceGroup().location]",
                "dependsOn": ["[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]"],
                "properties": {
                    "enabled": true,
                    "targetResourceUri": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]",
                    "profiles": [{"name": "default",
                                  "capacity": {"minimum": "0", "maximum": "10", "default": "[string(parameters('capacity'))]"},
                                  "rules": []}]
                }
            }
        ],
        "outputs": {
            "fqdn": {"type": "string", "value": "[reference(resourceId('Microsoft.Network/publicIPAddresses', variables('pip'))).dnsSettings.fqdn]"},
            "vmssId": {"type": "string", "value": "[resourceId('Microsoft.Compute/virtualMachineScaleSets', variables('vmss'))]"}
        }
    })
}

fn deployment(capacity: u32) -> DeploymentRequest {
    DeploymentRequest::incremental(
        template(),
        json!({
            "prefix": {"value": "team"},
            "capacity": {"value": capacity},
            "adminPassword": {"value": "S3cret-Passw0rd!"}
        }),
    )
}

async fn deployed(d: &Running) -> ArmClient {
    let (c, _) = client(d);
    c.resource_group_put(RG, &group()).await.unwrap();
    c.deploy(RG, "pool", &deployment(2))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    c
}

fn management(d: &Running) -> Vec<dsvmpool_arm_double::RecordedRequest> {
    d.management_requests()
}

fn fault(method: &str, path: &str, nth: u32, times: u32, action: FaultAction) -> FaultRule {
    FaultRule {
        method: method.into(),
        path: path.into(),
        nth,
        times,
        action,
    }
}

fn http_error(e: &dsvmpool::Error) -> (String, u16, String, String, String) {
    match e {
        dsvmpool::Error::Http {
            operation,
            status,
            code,
            message,
            request_id,
            ..
        } => (
            operation.clone(),
            *status,
            code.clone(),
            message.clone(),
            request_id.clone(),
        ),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_credential_and_the_test_ca() {
    let d = double();
    let (c, events) = client(&d);
    let rg = c.resource_group_put(RG, &group()).await.unwrap();
    assert_eq!(rg.name.as_deref(), Some(RG));
    assert_eq!(
        c.resource_group_get(RG).await.unwrap().unwrap().location,
        "westeurope"
    );
    assert!(c.resource_group_get("missing").await.unwrap().is_none());

    let all = d.requests();
    let tokens: Vec<_> = all
        .iter()
        .filter(|r| r.kind == RequestKind::Token)
        .collect();
    assert_eq!(tokens.len(), 1, "one token, cached for the following calls");
    assert!(tokens[0].path.ends_with("/oauth2/v2.0/token"));
    assert!(
        !tokens[0].body.contains(&d.client_secret),
        "the double redacts the secret"
    );
    let mgmt = management(&d);
    assert_eq!(mgmt.len(), 3);
    for r in &mgmt {
        assert_eq!(
            r.headers.get("x-ms-client-request-id").map(String::len),
            Some(36)
        );
        assert_eq!(
            r.query_param("api-version").as_deref(),
            Some(api_version::RESOURCES)
        );
    }
    // The throttling headers of the double were read and reported.
    assert!(c.rate_limits().writes.is_some() && c.rate_limits().reads.is_some());
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ClientEvent::RateLimit { .. }))
    );

    // Without the test CA the double's certificate is not trusted: nothing reaches it.
    let before = d.requests().len();
    let mut cfg = config(&d);
    cfg.test_ca_pem = None;
    let untrusting = ArmClient::new(cfg).unwrap();
    let e = untrusting.resource_group_get(RG).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Auth | ErrorKind::Http), "{e}");
    assert!(e.to_string().contains("certificate"), "{e}");
    assert_eq!(d.requests().len(), before);

    // Plain http endpoints are refused before anything is sent.
    let http = d.management_url.replace("https://", "http://");
    let e = CloudEndpoints::custom(
        Url::parse(&http).unwrap(),
        Url::parse(&d.token_authority_url).unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let mut cfg = config(&d);
    cfg.cloud.management = Url::parse(&http).unwrap();
    assert_eq!(
        ArmClient::new(cfg).unwrap_err().kind(),
        ErrorKind::Validation
    );
    // A wrong secret is an authentication error naming the credential.
    let mut cfg = config(&d);
    cfg.auth.client_secret = Some(SecretString::new("wrong"));
    let e = ArmClient::new(cfg)
        .unwrap()
        .resource_group_get(RG)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("environment"), "{e}");
    assert!(!e.to_string().contains("wrong"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_and_operate_a_pool() {
    let d = double();
    let (c, events) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    let dep = deployment(2);

    // Preflight and what-if.
    let v = c.deployment_validate(RG, "pool", &dep).await.unwrap();
    assert!(v.properties.is_some());
    let w = c.deployment_what_if(RG, "pool", &dep).await.unwrap();
    let changes = w.properties.unwrap().changes.unwrap();
    assert_eq!(changes.len(), 6, "{changes:?}");
    assert!(
        changes.iter().all(|ch| ch.change_type == "Create"),
        "{changes:?}"
    );

    // Deploy with live progress.
    let mut p = c.deploy(RG, "pool", &dep).await.unwrap();
    let mut statuses = vec![];
    let out = loop {
        match p.poll().await.unwrap() {
            PollStatus::Running { status, .. } => {
                statuses.push(status);
                let ops = c.deployment_operations(RG, "pool").await.unwrap();
                assert!(ops.len() <= 7, "{ops:?}");
            }
            PollStatus::Done(o) => break o,
        }
    };
    assert!(!statuses.is_empty());
    let body = out.body.unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert!(
        body["properties"]["outputs"]["fqdn"]["value"]
            .as_str()
            .unwrap()
            .starts_with("team.")
    );
    let ops = c.deployment_operations(RG, "pool").await.unwrap();
    let creates: Vec<_> = ops
        .iter()
        .filter_map(|o| o.properties.as_ref())
        .filter(|p| p.provisioning_operation.as_deref() == Some("Create"))
        .collect();
    assert_eq!(creates.len(), 6, "{ops:?}");
    for p in &creates {
        assert_eq!(p.provisioning_state.as_deref(), Some("Succeeded"), "{p:?}");
        assert!(p.target_resource.as_ref().unwrap().resource_type.is_some());
    }
    assert!(ops.iter().any(|o| {
        o.properties
            .as_ref()
            .unwrap()
            .provisioning_operation
            .as_deref()
            == Some("EvaluateDeploymentOutput")
    }));
    let got = c.deployment_get(RG, "pool").await.unwrap().unwrap();
    assert_eq!(got.provisioning_state(), Some("Succeeded"));
    // The secure parameter is not echoed, and never in our Debug output.
    assert!(!format!("{dep:?}").contains("S3cret"));
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, ClientEvent::Poll { .. }))
    );

    // Scale set: read, scale with If-Match, stale ETag refused.
    let vmss = c.scale_set_get(RG, "team-vmss").await.unwrap().unwrap();
    assert_eq!(vmss.capacity(), Some(2));
    let etag = vmss.etag.clone().expect("etag");
    let scaled: Value = c
        .scale_set_update_capacity(RG, "team-vmss", 3, Some(&etag))
        .await
        .unwrap()
        .wait_json()
        .await
        .unwrap();
    assert_eq!(scaled["sku"]["capacity"], 3);
    let e = c
        .scale_set_update_capacity(RG, "team-vmss", 5, Some(&etag))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let (op, status, _, _, rid) = http_error(&e);
    assert_eq!(op, "scale team-vmss to 5");
    assert_eq!(status, 412);
    assert!(!rid.is_empty());
    let vms = c.scale_set_instances(RG, "team-vmss", true).await.unwrap();
    assert_eq!(vms.len(), 3);
    assert!(
        vms.iter()
            .all(|v| v.power_state() == Some(PowerState::Running)),
        "{vms:?}"
    );

    // Instance protection.
    let first = vms[0].instance_id.clone().unwrap();
    let policy = ProtectionPolicy {
        protect_from_scale_in: Some(true),
        protect_from_scale_set_actions: None,
    };
    c.scale_set_instance_protection(RG, "team-vmss", &first, &policy)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let vms = c.scale_set_instances(RG, "team-vmss", false).await.unwrap();
    let protected: Vec<_> = vms
        .iter()
        .filter(|v| v.protection().and_then(|p| p.protect_from_scale_in) == Some(true))
        .collect();
    assert_eq!(protected.len(), 1);

    // Stop (deallocate) and start.
    c.scale_set_deallocate(RG, "team-vmss", None)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let vms = c.scale_set_instances(RG, "team-vmss", true).await.unwrap();
    assert!(
        vms.iter()
            .all(|v| v.power_state() == Some(PowerState::Deallocated)),
        "{vms:?}"
    );
    c.scale_set_start(RG, "team-vmss", None)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let vms = c.scale_set_instances(RG, "team-vmss", true).await.unwrap();
    assert!(
        vms.iter()
            .all(|v| v.power_state() == Some(PowerState::Running)),
        "{vms:?}"
    );

    // Autoscale: GET, change, PUT back (unknown fields survive).
    let mut a = c
        .autoscale_get(RG, "team-vmss-autoscale")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.properties.profiles[0].capacity.numbers(),
        Some((0, 10, 2))
    );
    a.properties.profiles[0].capacity.maximum = "20".into();
    let put = c
        .autoscale_put(RG, "team-vmss-autoscale", &a)
        .await
        .unwrap();
    assert_eq!(put.properties.profiles[0].capacity.maximum, "20");
    let again = c
        .autoscale_get(RG, "team-vmss-autoscale")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.properties.profiles[0].capacity.numbers(),
        Some((0, 20, 2))
    );

    // Storage keys (secret values stay out of Debug).
    let storage = c
        .get_resource(
            &format!(
                "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts",
                d.subscription_id
            ),
            api_version::STORAGE,
        )
        .await
        .unwrap()
        .expect("the storage list");
    let account = storage["value"][0]["name"].as_str().unwrap().to_string();
    let keys = c.storage_list_keys(RG, &account).await.unwrap();
    assert_eq!(keys.keys.len(), 2);
    assert!(!keys.keys[0].value.expose().is_empty());
    assert!(!format!("{keys:?}").contains(keys.keys[0].value.expose()));

    // Generic delete, then the whole group.
    let id = c.requests().resource_id(
        RG,
        &[
            "Microsoft.Insights",
            "autoscalesettings",
            "team-vmss-autoscale",
        ],
    );
    c.delete_resource(&id, api_version::INSIGHTS)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert!(
        c.autoscale_get(RG, "team-vmss-autoscale")
            .await
            .unwrap()
            .is_none()
    );
    // Deleting what is gone is not an error.
    assert!(
        c.delete_resource(&id, api_version::INSIGHTS)
            .await
            .unwrap()
            .is_done()
    );
    c.resource_group_delete(RG)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert!(c.resource_group_get(RG).await.unwrap().is_none());
    assert!(c.scale_set_get(RG, "team-vmss").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_retry_after_is_honoured() {
    let d = double();
    let (c, events) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    d.add_fault(fault(
        "GET",
        "*/resourcegroups/rg-team",
        1,
        2,
        FaultAction::Throttle {
            retry_after_secs: 150.0,
        },
    ))
    .unwrap();
    c.resource_group_get(RG).await.unwrap().unwrap();
    let gets: Vec<_> = management(&d)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 3);
    assert_eq!(
        gets.iter()
            .filter(|r| r.fault.as_deref() == Some("throttle"))
            .count(),
        2
    );
    assert_eq!(gets[2].status, 200);
    // The client waited what the double asked (150 simulated s = 150 ms), no less.
    for w in gets.windows(2) {
        assert!(
            w[1].sim_secs - w[0].sim_secs >= 150.0,
            "{} -> {}",
            w[0].sim_secs,
            w[1].sim_secs
        );
    }
    let retries: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Retry { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(retries, vec![Duration::from_millis(150); 2]);

    // Throttled past the budget: a Throttled error with the double's request id.
    d.clear_faults();
    d.add_fault(fault(
        "GET",
        "*/resourcegroups/rg-team",
        1,
        0,
        FaultAction::Throttle {
            retry_after_secs: 400.0,
        },
    ))
    .unwrap();
    let mut cfg = config(&d);
    cfg.retry.budget = Duration::from_secs(1);
    let c2 = ArmClient::new(cfg).unwrap();
    let e = c2.resource_group_get(RG).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Throttled);
    let (op, status, code, _, rid) = http_error(&e);
    assert_eq!(
        (op.as_str(), status, code.as_str()),
        (
            "GET resource group rg-team",
            429,
            "SubscriptionRequestsThrottled"
        )
    );
    let last = management(&d)
        .into_iter()
        .rev()
        .find(|r| r.method == "GET")
        .unwrap();
    assert_eq!(last.request_id.as_deref(), Some(rid.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_connection_resets_are_retried_without_duplicates() {
    let d = double();
    let (c, _) = client(&d);
    d.set_faults(vec![
        fault(
            "PUT",
            "*/resourcegroups/rg-team",
            1,
            1,
            FaultAction::ServerError {
                status: 500,
                retry_after_secs: None,
            },
        ),
        fault(
            "PUT",
            "*/resourcegroups/rg-team",
            2,
            1,
            FaultAction::ServerError {
                status: 503,
                retry_after_secs: Some(50.0),
            },
        ),
        fault(
            "PUT",
            "*/deployments/pool",
            1,
            1,
            FaultAction::ConnectionReset,
        ),
        fault(
            "GET",
            "*/operationstatuses/*",
            2,
            1,
            FaultAction::ConnectionReset,
        ),
        fault(
            "GET",
            "*/operationstatuses/*",
            3,
            1,
            FaultAction::ServerError {
                status: 502,
                retry_after_secs: None,
            },
        ),
    ])
    .unwrap();
    c.resource_group_put(RG, &group()).await.unwrap();
    c.deploy(RG, "pool", &deployment(2))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let mgmt = management(&d);
    let puts_rg: Vec<_> = mgmt
        .iter()
        .filter(|r| r.method == "PUT" && r.path_matches("*/resourcegroups/rg-team"))
        .collect();
    assert_eq!(
        puts_rg.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![500, 503, 201]
    );
    let puts_dep: Vec<_> = mgmt
        .iter()
        .filter(|r| r.method == "PUT" && r.path_matches("*/deployments/pool"))
        .collect();
    assert_eq!(puts_dep.len(), 2);
    assert_eq!(
        puts_dep[0].status, 0,
        "the first PUT had its connection reset"
    );
    for f in d.faults() {
        assert_eq!(f.fired, 1, "{f:?}");
    }
    // Nothing was created twice.
    let list = c
        .get_resource(
            &format!(
                "/subscriptions/{}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets",
                d.subscription_id
            ),
            api_version::COMPUTE,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "{list}");
    let creates = c
        .deployment_operations(RG, "pool")
        .await
        .unwrap()
        .into_iter()
        .filter(|o| {
            o.properties
                .as_ref()
                .unwrap()
                .provisioning_operation
                .as_deref()
                == Some("Create")
        })
        .count();
    assert_eq!(creates, 6);
    let vmss = c.scale_set_get(RG, "team-vmss").await.unwrap().unwrap();
    assert_eq!(vmss.capacity(), Some(2));
    assert_eq!(
        c.scale_set_instances(RG, "team-vmss", false)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_canceled_operations_are_clear_errors() {
    let d = double();
    let (c, _) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    d.add_fault(fault(
        "PUT",
        "*/deployments/pool",
        1,
        1,
        FaultAction::OperationFailed {
            code: "SkuNotAvailable".into(),
            message: "The requested VM size Standard_D4s_v5 is not available in westeurope.".into(),
        },
    ))
    .unwrap();
    let e = c
        .deploy(RG, "pool", &deployment(2))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    let (op, _, code, message, rid) = http_error(&e);
    assert_eq!(op, "PUT deployment pool");
    assert!(!code.is_empty());
    assert!(
        format!("{code} {message}").contains("SkuNotAvailable"),
        "{e}"
    );
    assert!(message.contains("ended Failed"), "{e}");
    assert!(!rid.is_empty(), "{e}");
    // The failed deployment is visible as such.
    let dep = c.deployment_get(RG, "pool").await.unwrap().unwrap();
    assert_eq!(dep.provisioning_state(), Some("Failed"));

    d.add_fault(fault(
        "POST",
        "*/virtualmachinescalesets/team-vmss/deallocate",
        1,
        1,
        FaultAction::OperationCanceled,
    ))
    .unwrap();
    // Rerunning the deployment converges.
    c.deploy(RG, "pool", &deployment(2))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let e = c
        .scale_set_deallocate(RG, "team-vmss", None)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    let (op, _, code, message, _) = http_error(&e);
    assert_eq!(op, "deallocate scale set team-vmss");
    assert!(message.contains("ended Canceled"), "{code}: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_replaced() {
    let d = double();
    let (c, _) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    // Every token issued so far expires: the client gets a new one from the token endpoint.
    d.expire_tokens();
    c.resource_group_get(RG).await.unwrap().unwrap();
    let tokens = d
        .requests()
        .iter()
        .filter(|r| r.kind == RequestKind::Token)
        .count();
    assert_eq!(tokens, 2);
    let gets: Vec<_> = management(&d)
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(
        gets.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![401, 200]
    );
    // The injected 401 fault is retried once with a fresh token, too.
    d.add_fault(fault(
        "GET",
        "*/resourcegroups/rg-team",
        1,
        1,
        FaultAction::ExpiredToken,
    ))
    .unwrap();
    c.resource_group_get(RG).await.unwrap().unwrap();
    // Two 401s in a row are an Auth error.
    d.add_fault(fault(
        "GET",
        "*/resourcegroups/rg-team",
        1,
        2,
        FaultAction::ExpiredToken,
    ))
    .unwrap();
    let e = c.resource_group_get(RG).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("ExpiredAuthenticationToken"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_polls_and_slow_answers() {
    let d = double();
    let (c, events) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    // Every poll of the deployment advertises Retry-After 250 simulated seconds.
    d.add_fault(fault(
        "PUT",
        "*/deployments/pool",
        1,
        1,
        FaultAction::SlowPoll {
            retry_after_secs: Some(250.0),
            delay_secs: None,
        },
    ))
    .unwrap();
    c.deploy(RG, "pool", &deployment(1))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let polls: Vec<_> = management(&d)
        .into_iter()
        .filter(|r| r.method == "GET" && r.path_matches("*/operationstatuses/*"))
        .collect();
    assert!(!polls.is_empty());
    let waits: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Poll {
                next_poll_in: Some(w),
                ..
            } => Some(*w),
            _ => None,
        })
        .collect();
    assert!(
        waits
            .iter()
            .filter(|w| !w.is_zero())
            .all(|w| *w == Duration::from_millis(250)),
        "{waits:?}"
    );
    for w in polls.windows(2) {
        assert!(
            w[1].sim_secs - w[0].sim_secs >= 250.0,
            "{} -> {}",
            w[0].sim_secs,
            w[1].sim_secs
        );
    }

    // An answer slower than the attempt timeout is abandoned and retried.
    d.add_fault(fault(
        "GET",
        "*/resourcegroups/rg-team",
        1,
        1,
        FaultAction::SlowPoll {
            retry_after_secs: None,
            delay_secs: Some(3000.0),
        },
    ))
    .unwrap();
    let mut cfg = config(&d);
    cfg.retry.attempt_timeout = Duration::from_millis(500);
    let c2 = ArmClient::new(cfg).unwrap();
    c2.resource_group_get(RG).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_deploy_resumes_without_a_second_put() {
    let d = double();
    let (c, _) = client(&d);
    c.resource_group_put(RG, &group()).await.unwrap();
    let mut p = c.deploy(RG, "pool", &deployment(2)).await.unwrap();
    assert!(matches!(
        p.poll().await.unwrap(),
        PollStatus::Running { .. }
    ));
    let saved = serde_json::to_string(p.state()).unwrap();
    // Interrupted (Ctrl-C): the future is dropped mid-wait.
    let _ = tokio::time::timeout(Duration::from_millis(5), p.wait()).await;
    // The next run, with a new client, resumes from the saved state.
    let (c2, _) = client(&d);
    let out = c2
        .resume(serde_json::from_str(&saved).unwrap())
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(
        out.body.unwrap()["properties"]["provisioningState"],
        "Succeeded"
    );
    let puts = management(&d)
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path_matches("*/deployments/pool"))
        .count();
    assert_eq!(puts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowercase_states_relative_urls_and_patch_200() {
    let d = double();
    d.update_settings(|s| {
        s.behaviour.lowercase_terminal_states = true;
        s.behaviour.relative_location = true;
        s.behaviour.patch_response = dsvmpool_arm_double::PatchResponse::Ok;
    })
    .unwrap();
    let c = deployed(&d).await;
    let vmss = c.scale_set_get(RG, "team-vmss").await.unwrap().unwrap();
    assert!(
        vmss.provisioning_state()
            .unwrap()
            .eq_ignore_ascii_case("succeeded")
    );
    let scaled: dsvmpool::azure::models::VirtualMachineScaleSet = c
        .scale_set_update_capacity(RG, "team-vmss", 4, vmss.etag.as_deref())
        .await
        .unwrap()
        .wait_json()
        .await
        .unwrap();
    assert_eq!(scaled.capacity(), Some(4));
    // Never reported done while the scale set still says Updating.
    assert!(
        scaled
            .provisioning_state()
            .unwrap()
            .eq_ignore_ascii_case("succeeded")
    );
    c.scale_set_deallocate(RG, "team-vmss", None)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let vms = c.scale_set_instances(RG, "team-vmss", true).await.unwrap();
    assert_eq!(vms.len(), 4);
    assert!(
        vms.iter()
            .all(|v| v.power_state() == Some(PowerState::Deallocated))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scales_with_etags_do_not_lose_an_update() {
    let d = double();
    let c = deployed(&d).await;
    let etag = c
        .scale_set_get(RG, "team-vmss")
        .await
        .unwrap()
        .unwrap()
        .etag
        .unwrap();
    let (a, b) = tokio::join!(
        c.scale_set_update_capacity(RG, "team-vmss", 3, Some(&etag)),
        c.scale_set_update_capacity(RG, "team-vmss", 5, Some(&etag)),
    );
    let (winner, loser, capacity) = match (a, b) {
        (Ok(p), Err(e)) => (p, e, 3),
        (Err(e), Ok(p)) => (p, e, 5),
        (a, b) => panic!(
            "exactly one update must win: {:?} / {:?}",
            a.is_ok(),
            b.is_ok()
        ),
    };
    assert_eq!(loser.kind(), ErrorKind::Conflict, "{loser}");
    let v: dsvmpool::azure::models::VirtualMachineScaleSet = winner.wait_json().await.unwrap();
    assert_eq!(v.capacity(), Some(capacity));
    let now = c.scale_set_get(RG, "team-vmss").await.unwrap().unwrap();
    assert_eq!(now.capacity(), Some(capacity));
}

//! The ARM models and the poller against the official REST examples and two real SDK
//! recordings in `../shared/fixtures/arm`.
//!
//! Every example file must map to a model (an unknown file fails the test), every request and
//! response body must deserialize and serialize back to the same JSON, and the recordings'
//! request/response sequences are replayed through the poller and through the client.

use dsvmpool::ErrorKind;
use dsvmpool::azure::auth::{BoxFuture, TokenProvider};
use dsvmpool::azure::client::{HttpRequest, Transport, TransportError};
use dsvmpool::azure::lro::{LroOptions, LroPoller, Step, terminal_state};
use dsvmpool::azure::models::*;
use dsvmpool::azure::{
    ArmClient, ArmRequest, ArmRequests, ArmResponse, Method, RetryPolicy, error_from_response,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("DSVMPOOL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("fixtures/arm");
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "ARM fixtures not found at {} (set DSVMPOOL_SHARED_DIR)",
        dir.display()
    );
    dir
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some(ext) {
            out.push(p);
        }
    }
    out.sort();
}

/// Deserializes `v` into `T`, serializes it back and checks nothing was lost or changed.
fn round_trip<T: DeserializeOwned + serde::Serialize>(what: &str, v: &Value) -> T {
    let m: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| {
        panic!(
            "{what}: does not deserialize into {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let back = serde_json::to_value(&m).unwrap();
    assert_eq!(
        &back,
        v,
        "{what}: round-trip through {} changed the JSON",
        std::any::type_name::<T>()
    );
    m
}

fn response_body<'a>(ex: &'a Value, code: &str) -> Option<&'a Value> {
    ex["responses"][code].get("body")
}

fn response_headers(ex: &Value, code: &str) -> Vec<(String, String)> {
    ex["responses"][code]
        .get("headers")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn example_response(ex: &Value, code: &str) -> ArmResponse {
    ArmResponse {
        status: code.parse().unwrap(),
        headers: response_headers(ex, code),
        body: response_body(ex, code)
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default(),
    }
}

fn opts() -> LroOptions {
    LroOptions {
        default_poll_interval: Duration::from_secs(60),
        max_wait: None,
    }
}

#[test]
fn every_official_example_deserializes_and_round_trips() {
    let root = fixtures().join("api-examples");
    let mut all = Vec::new();
    files(&root, "json", &mut all);
    assert!(
        all.len() >= 14,
        "expected the 14 official examples, found {}",
        all.len()
    );
    let reqs =
        ArmRequests::new(&Url::parse("https://management.azure.com/").unwrap(), "sub").unwrap();
    for path in &all {
        let name = path.file_name().unwrap().to_str().unwrap();
        let ex: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let p = &ex["parameters"];
        match name {
            "VirtualMachineScaleSet_Create_WithAzureLoadBalancer.json" => {
                let body: VirtualMachineScaleSet = round_trip(name, &p["parameters"]);
                assert_eq!(body.capacity(), Some(3));
                for code in ["200", "201"] {
                    let m: VirtualMachineScaleSet =
                        round_trip(name, response_body(&ex, code).unwrap());
                    assert_eq!(m.capacity(), Some(3));
                    let ps = m.provisioning_state().unwrap();
                    assert!(
                        terminal_state(ps).is_some() || ps.eq_ignore_ascii_case("creating"),
                        "{ps}"
                    );
                }
            }
            "VirtualMachineScaleSet_Get_WithUserData.json" => {
                let m: VirtualMachineScaleSet =
                    round_trip(name, response_body(&ex, "200").unwrap());
                assert_eq!(m.capacity(), Some(4));
                // Real responses send lower-case states.
                assert_eq!(m.provisioning_state(), Some("succeeded"));
                assert!(terminal_state("succeeded").is_some());
                // GET-then-PUT: the unknown parts (virtualMachineProfile, userData) survive.
                let put = reqs
                    .get_url(
                        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/x?api-version=2024-07-01",
                        "x",
                    )
                    .unwrap();
                assert_eq!(put.method, Method::Get);
                let again = serde_json::to_value(&m).unwrap();
                assert_eq!(
                    again["properties"]["virtualMachineProfile"]["userData"],
                    "RXhhbXBsZSBVc2VyRGF0YQ=="
                );
            }
            "VirtualMachineScaleSet_Update_MinimumSet_Gen.json" => {
                let _: VirtualMachineScaleSet = round_trip(name, &p["parameters"]);
                let m: VirtualMachineScaleSet =
                    round_trip(name, response_body(&ex, "200").unwrap());
                assert_eq!(m.location.as_deref(), Some("westus"));
            }
            "VirtualMachineScaleSetVM_List_MinimumSet_Gen.json" => {
                let l: ArmList<ScaleSetVm> = round_trip(name, response_body(&ex, "200").unwrap());
                assert_eq!(l.value.len(), 1);
                assert_eq!(l.next_link, None);
            }
            "VirtualMachineScaleSet_Start_MaximumSet_Gen.json"
            | "VirtualMachineScaleSet_Deallocate_MaximumSet_Gen.json" => {
                let ids: VmInstanceIds = round_trip(name, &p["vmInstanceIDs"]);
                assert_eq!(ids.instance_ids.len(), 1);
                // 202 with an absolute Location on the example host: poll it, then done.
                let foo =
                    ArmRequests::new(&Url::parse("https://foo.com/").unwrap(), "sub").unwrap();
                let req = if name.contains("Start") {
                    foo.scale_set_start("rgcompute", "vmss", Some(&ids.instance_ids))
                        .unwrap()
                } else {
                    foo.scale_set_deallocate("rgcompute", "vmss", Some(&ids.instance_ids))
                        .unwrap()
                };
                let (mut lro, step) =
                    LroPoller::start(&foo, &req, &example_response(&ex, "202"), opts()).unwrap();
                let Step::Wait { delay, request } = step else {
                    panic!("{name}: expected a poll")
                };
                assert_eq!(delay, Duration::from_secs(60));
                assert_eq!(request.url.as_str(), "https://foo.com/operationstatus");
                let Step::Done(out) = lro.on_response(&example_response(&ex, "200")).unwrap()
                else {
                    panic!("{name}: expected done")
                };
                assert_eq!(out.status, 200);
                // Against the real endpoint, that Location (another host) is refused.
                let req = reqs.scale_set_start("rgcompute", "vmss", None).unwrap();
                let e = LroPoller::start(&reqs, &req, &example_response(&ex, "202"), opts())
                    .unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Validation);
            }
            "StorageAccountListKeys.json" => {
                let k: StorageAccountKeys = round_trip(name, response_body(&ex, "200").unwrap());
                assert_eq!(k.keys.len(), 2);
                assert_eq!(k.keys[0].key_name.as_deref(), Some("key1"));
                assert!(!format!("{k:?}").contains("<value>"));
            }
            "FileSharesPut.json" => {
                let _: GenericResource = round_trip(name, &p["fileShare"]);
                for code in ["200", "201"] {
                    let r: GenericResource = round_trip(name, response_body(&ex, code).unwrap());
                    assert_eq!(r.name.as_deref(), Some("share6185"));
                }
            }
            "getAutoscaleSetting.json" | "createOrUpdateAutoscaleSetting.json" => {
                if let Some(b) = p.get("parameters") {
                    let _: AutoscaleSetting = round_trip(name, b);
                }
                let codes: Vec<&String> = ex["responses"].as_object().unwrap().keys().collect();
                for code in codes {
                    let s: AutoscaleSetting = round_trip(name, response_body(&ex, code).unwrap());
                    assert_eq!(s.properties.profiles.len(), 2);
                    assert_eq!(
                        s.properties.profiles[0].capacity.numbers(),
                        Some((1, 10, 1))
                    );
                    assert!(
                        s.properties
                            .target_resource_uri
                            .as_deref()
                            .unwrap()
                            .ends_with("/testingsc")
                    );
                    // notifications and predictiveAutoscalePolicy are kept as unknown fields.
                    assert!(s.properties.extra.contains_key("notifications"));
                }
            }
            "PostDeploymentWhatIfOnResourceGroup.json" => {
                let d: DeploymentRequest = round_trip(name, &p["parameters"]);
                let w: WhatIfResult = round_trip(name, response_body(&ex, "200").unwrap());
                let changes = w.properties.unwrap().changes.unwrap();
                assert_eq!(changes.len(), 2);
                assert_eq!(changes[0].change_type, "Modify");
                assert_eq!(changes[1].change_type, "Create");
                // 202 with a relative Location: resolved against the endpoint, polled, and the
                // what-if result comes from it.
                let r = ArmRequests::new(
                    &Url::parse("https://management.azure.com/").unwrap(),
                    "00000000-0000-0000-0000-000000000001",
                )
                .unwrap();
                let req = r
                    .deployment_what_if("my-resource-group", "my-deployment", &d)
                    .unwrap();
                let (mut lro, step) =
                    LroPoller::start(&r, &req, &example_response(&ex, "202"), opts()).unwrap();
                let Step::Wait { request, .. } = step else {
                    panic!()
                };
                assert!(request.url.as_str().starts_with("https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/ZZZZ"));
                let Step::Done(out) = lro.on_response(&example_response(&ex, "200")).unwrap()
                else {
                    panic!()
                };
                let w: WhatIfResult = serde_json::from_value(out.body.unwrap()).unwrap();
                assert_eq!(w.status.as_deref(), Some("Succeeded"));
            }
            "PutDeploymentResourceGroup.json" => {
                let d: DeploymentRequest = round_trip(name, &p["parameters"]);
                assert!(!format!("{d:?}").contains("sig="));
                let ok: Deployment = round_trip(name, response_body(&ex, "200").unwrap());
                assert_eq!(ok.provisioning_state(), Some("Succeeded"));
                let accepted: Deployment = round_trip(name, response_body(&ex, "201").unwrap());
                assert_eq!(accepted.provisioning_state(), Some("Accepted"));
                // 201 Accepted without monitor headers: the poller watches the deployment.
                let req = reqs
                    .deployment_put("my-resource-group", "my-deployment", &d)
                    .unwrap();
                let (mut lro, step) =
                    LroPoller::start(&reqs, &req, &example_response(&ex, "201"), opts()).unwrap();
                let Step::Wait { request, .. } = step else {
                    panic!()
                };
                assert_eq!(request.url, req.url);
                let Step::Done(out) = lro.on_response(&example_response(&ex, "200")).unwrap()
                else {
                    panic!()
                };
                assert_eq!(
                    out.body.unwrap()["properties"]["provisioningState"],
                    "Succeeded"
                );
            }
            "PostDeploymentValidateOnResourceGroup.json" => {
                let d: DeploymentRequest = round_trip(name, &p["parameters"]);
                let v: Deployment = round_trip(name, response_body(&ex, "200").unwrap());
                assert!(
                    v.properties
                        .unwrap()
                        .extra
                        .contains_key("validatedResources")
                );
                let e: ArmErrorResponse = round_trip(name, response_body(&ex, "400").unwrap());
                assert_eq!(e.error.unwrap().code, "InvalidTemplateDeployment");
                // The 400 as the client reports it.
                let req = reqs
                    .deployment_validate("my-resource-group", "my-deployment", &d)
                    .unwrap();
                let err = error_from_response(&req.operation, &example_response(&ex, "400"));
                assert_eq!(err.kind(), ErrorKind::Http);
                let s = err.to_string();
                assert!(
                    s.starts_with(
                        "validate deployment my-deployment: HTTP 400 InvalidTemplateDeployment:"
                    ),
                    "{s}"
                );
                assert!(
                    s.contains("AccountNameInvalid: a is not a valid storage account name"),
                    "{s}"
                );
                assert!(s.contains("(target a)"), "{s}");
                assert!(
                    s.ends_with("(request id dccf336d-c3ee-4057-a902-9efc0e023cd0)"),
                    "{s}"
                );
                // 202 + relative Location, then the 200 validation result.
                let (mut lro, step) =
                    LroPoller::start(&reqs, &req, &example_response(&ex, "202"), opts()).unwrap();
                let Step::Wait { request, .. } = step else {
                    panic!()
                };
                assert!(request.url.path().contains("/operationResults/"));
                assert!(matches!(
                    lro.on_response(&example_response(&ex, "200")).unwrap(),
                    Step::Done(_)
                ));
            }
            "CreateResourceGroup.json" => {
                let _: ResourceGroup = round_trip(name, &p["parameters"]);
                for code in ["200", "201"] {
                    let g: ResourceGroup = round_trip(name, response_body(&ex, code).unwrap());
                    assert_eq!(g.location, "eastus");
                    assert_eq!(
                        g.properties.unwrap().provisioning_state.as_deref(),
                        Some("Succeeded")
                    );
                }
            }
            other => panic!("no model mapping for the example {other}: add one to this test"),
        }
    }
}

// ---- recordings -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Recording {
    interactions: Vec<Interaction>,
}

#[derive(Debug, Deserialize)]
struct Interaction {
    request: RecRequest,
    response: RecResponse,
}

#[derive(Debug, Deserialize)]
struct RecRequest {
    method: String,
    uri: String,
    body: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RecResponse {
    status: RecStatus,
    headers: BTreeMap<String, Vec<String>>,
    body: RecBody,
}

#[derive(Debug, Deserialize)]
struct RecStatus {
    code: u16,
}

#[derive(Debug, Deserialize)]
struct RecBody {
    string: Option<String>,
}

impl Interaction {
    fn response(&self) -> ArmResponse {
        ArmResponse {
            status: self.response.status.code,
            headers: self
                .response
                .headers
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| (k.to_ascii_lowercase(), v.clone())))
                .collect(),
            body: self
                .response
                .body
                .string
                .clone()
                .unwrap_or_default()
                .into_bytes(),
        }
    }
    fn method(&self) -> Method {
        match self.request.method.as_str() {
            "GET" => Method::Get,
            "PUT" => Method::Put,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            m => panic!("method {m}"),
        }
    }
    fn request(&self) -> ArmRequest {
        ArmRequest {
            method: self.method(),
            url: Url::parse(&self.request.uri).unwrap(),
            headers: vec![],
            body: self
                .request
                .body
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok()),
            operation: format!("{} {}", self.request.method, short(&self.request.uri)),
        }
    }
}

fn short(uri: &str) -> String {
    let path = uri.split('?').next().unwrap();
    path.rsplit('/')
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("/")
}

fn recording(name: &str) -> Recording {
    let mut all = Vec::new();
    files(&fixtures().join("recordings"), "yaml", &mut all);
    let p = all
        .iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().contains(name))
        .unwrap_or_else(|| panic!("recording {name} not found"));
    serde_norway::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn endpoint() -> ArmRequests {
    ArmRequests::new(
        &Url::parse("https://management.azure.com/").unwrap(),
        "00000000-0000-0000-0000-000000000000",
    )
    .unwrap()
}

/// What replaying one recording produced: per long-running operation, its outcome and the
/// delays the poller asked for; plus the plain GETs.
#[derive(Debug)]
struct Replay {
    lros: Vec<(String, Result<Value, dsvmpool::Error>, Vec<Duration>)>,
    plain: Vec<Value>,
}

/// Replays a recording through the sans-IO poller: every request the poller asks for must be
/// the next recorded request (method and URL), and every recorded interaction is consumed.
fn replay(rec: &Recording) -> Replay {
    let reqs = endpoint();
    let mut out = Replay {
        lros: vec![],
        plain: vec![],
    };
    let mut i = 0;
    while i < rec.interactions.len() {
        let it = &rec.interactions[i];
        let req = it.request();
        i += 1;
        if req.method == Method::Get {
            let r = it.response();
            assert!(r.is_success());
            out.plain.push(r.json_body().unwrap());
            continue;
        }
        let mut delays = vec![];
        let mut step = match LroPoller::start(&reqs, &req, &it.response(), opts()) {
            Ok((lro, step)) => Some((lro, step)),
            Err(e) => {
                out.lros.push((req.operation.clone(), Err(e), delays));
                continue;
            }
        };
        loop {
            let (mut lro, s) = step.take().unwrap();
            match s {
                Step::Done(o) => {
                    out.lros.push((
                        req.operation.clone(),
                        Ok(o.body.unwrap_or(Value::Null)),
                        delays,
                    ));
                    break;
                }
                Step::Wait { delay, request } => {
                    delays.push(delay);
                    let next = rec.interactions.get(i).unwrap_or_else(|| {
                        panic!("poller asked for {} after the recording ended", request.url)
                    });
                    assert_eq!(request.method, next.method(), "interaction {i}");
                    assert_eq!(request.url.as_str(), next.request.uri, "interaction {i}");
                    i += 1;
                    match lro.on_response(&next.response()) {
                        Ok(s) => step = Some((lro, s)),
                        Err(e) => {
                            out.lros.push((req.operation.clone(), Err(e), delays));
                            break;
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn vmss_create_recording_replays_through_the_poller() {
    let rec = recording("test_create_virtual_machine_scale_set");
    assert_eq!(rec.interactions.len(), 9);
    let r = replay(&rec);
    assert_eq!(r.lros.len(), 2, "{r:?}");
    // The virtual network: 201 Updating + Azure-AsyncOperation, status Succeeded, final GET.
    let (op, vnet, delays) = &r.lros[0];
    assert_eq!(op, "PUT virtualNetworks/pyvmirnet5cc18eb");
    let vnet = vnet.as_ref().unwrap();
    assert_eq!(vnet["properties"]["provisioningState"], "Succeeded");
    // No Retry-After in the recording: the ARM default interval, then the final GET at once.
    assert_eq!(delays, &[Duration::from_secs(60), Duration::ZERO]);
    let g: GenericResource = round_trip("vnet", vnet);
    assert_eq!(
        g.etag.as_deref(),
        Some("W/\"f5b7ced4-aa99-4228-9371-f3e489011204\"")
    );
    // The scale set: 201 Creating, InProgress twice, Succeeded, final GET.
    let (op, vmss, delays) = &r.lros[1];
    assert_eq!(op, "PUT virtualMachineScaleSets/pyvmirvm5cc18eb");
    let vmss: VirtualMachineScaleSet = round_trip("vmss", vmss.as_ref().unwrap());
    assert_eq!(vmss.capacity(), Some(5));
    assert_eq!(vmss.provisioning_state(), Some("Succeeded"));
    assert_eq!(delays.len(), 4);
    assert_eq!(delays[3], Duration::ZERO);
    // The plain GET of the subnet.
    assert_eq!(r.plain.len(), 1);
    let _: GenericResource = round_trip("subnet", &r.plain[0]);
    // Every recorded response body round-trips through a model.
    for it in &rec.interactions {
        let body = it.response().json_body().unwrap();
        if body.get("status").is_some() {
            let _: OperationStatus = round_trip("status", &body);
        } else if it.request.uri.contains("virtualMachineScaleSets") {
            let _: VirtualMachineScaleSet = round_trip("vmss", &body);
        } else {
            let _: GenericResource = round_trip("resource", &body);
        }
    }
}

#[test]
fn deployment_error_recording_maps_to_a_clear_error() {
    let rec = recording("test_deployments_linked_template_error");
    let r = replay(&rec);
    assert_eq!(r.lros.len(), 1);
    let (_, res, _) = &r.lros[0];
    let e = res.as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Http);
    match e {
        dsvmpool::Error::Http {
            operation,
            status,
            code,
            message,
            ..
        } => {
            assert_eq!(operation, "PUT deployments/pytestlinkedafa117b7");
            assert_eq!(*status, 400);
            assert_eq!(code, "InvalidTemplateDeployment");
            assert!(
                message.contains(
                    "InvalidDomainNameLabel: The domain name label GEN-UNIQUE is invalid"
                ),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let _: DeploymentRequest = round_trip("request", &rec.interactions[0].request().body.unwrap());
}

// ---- replay through the client (transport answers from the recording) -----------------------

#[derive(Debug)]
struct RecordedTransport {
    interactions: Mutex<VecDeque<(Method, String, ArmResponse)>>,
    sent: Mutex<Vec<HttpRequest>>,
}

impl Transport for RecordedTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<ArmResponse, TransportError>> {
        Box::pin(async move {
            let (m, uri, resp) = self
                .interactions
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| panic!("unexpected request {} {}", request.method, request.url));
            assert_eq!(request.method, m);
            assert_eq!(request.url.as_str(), uri);
            self.sent.lock().unwrap().push(request);
            Ok(resp)
        })
    }
}

#[derive(Debug)]
struct FixedToken;

impl TokenProvider for FixedToken {
    fn token<'a>(&'a self, _scope: &'a str) -> BoxFuture<'a, dsvmpool::Result<SecretString>> {
        Box::pin(async { Ok(SecretString::new("recorded-token")) })
    }
    fn invalidate(&self) {}
}

fn recorded_client(rec: &Recording) -> (ArmClient, Arc<RecordedTransport>) {
    let t = Arc::new(RecordedTransport {
        interactions: Mutex::new(
            rec.interactions
                .iter()
                .map(|it| (it.method(), it.request.uri.clone(), it.response()))
                .collect(),
        ),
        sent: Mutex::new(vec![]),
    });
    let c = ArmClient::with_parts(
        endpoint(),
        "https://management.azure.com/.default".into(),
        t.clone(),
        Arc::new(FixedToken),
        RetryPolicy::default(),
        opts(),
        None,
    );
    (c, t)
}

#[tokio::test(start_paused = true)]
async fn vmss_recording_replays_through_the_client() {
    let rec = recording("test_create_virtual_machine_scale_set");
    let (client, transport) = recorded_client(&rec);
    let t0 = tokio::time::Instant::now();
    let vnet = client
        .begin(&rec.interactions[0].request())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(
        vnet.body.unwrap()["properties"]["provisioningState"],
        "Succeeded"
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(60));
    let subnet = client
        .send_json::<GenericResource>(&rec.interactions[3].request())
        .await
        .unwrap();
    assert_eq!(subnet.name.as_deref(), Some("pyvmirsub5cc18eb"));
    let t1 = tokio::time::Instant::now();
    let vmss: VirtualMachineScaleSet = client
        .begin(&rec.interactions[4].request())
        .await
        .unwrap()
        .wait_json()
        .await
        .unwrap();
    assert_eq!(vmss.capacity(), Some(5));
    // Three polls at the default interval, no Retry-After anywhere.
    assert_eq!(t1.elapsed(), Duration::from_secs(180));
    assert!(transport.interactions.lock().unwrap().is_empty());
    let sent = transport.sent.lock().unwrap();
    assert_eq!(sent.len(), 9);
    for r in sent.iter() {
        let auth = r
            .headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap();
        assert_eq!(auth.1, "Bearer recorded-token");
        assert!(!format!("{r:?}").contains("recorded-token"));
    }
    // The recorded writes quota was read.
    assert_eq!(client.rate_limits().writes, Some(1199));
}

#[tokio::test(start_paused = true)]
async fn deployment_error_recording_through_the_client_has_a_request_id() {
    let rec = recording("test_deployments_linked_template_error");
    let (client, _) = recorded_client(&rec);
    let e = client
        .begin(&rec.interactions[0].request())
        .await
        .unwrap_err();
    match &e {
        dsvmpool::Error::Http {
            code, request_id, ..
        } => {
            assert_eq!(code, "InvalidTemplateDeployment");
            // The recording carries no x-ms-request-id: the client request id is quoted.
            assert_eq!(request_id.len(), 36, "{request_id}");
        }
        other => panic!("{other:?}"),
    }
    let details = e.details();
    assert_eq!(details["status"], json!(400));
}

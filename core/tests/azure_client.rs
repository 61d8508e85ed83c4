//! The client's retry, token, throttling, polling and cancellation behaviour, with a scripted
//! transport and tokio's paused clock (virtual time: waits are measured exactly, instantly).

use dsvmpool::ErrorKind;
use dsvmpool::azure::auth::{BoxFuture, TokenProvider};
use dsvmpool::azure::client::{
    ClientEvent, HttpRequest, Transport, TransportError, TransportErrorKind,
};
use dsvmpool::azure::lro::Phase;
use dsvmpool::azure::models::{ScaleSetVm, SecretString};
use dsvmpool::azure::{
    ArmClient, ArmRequests, ArmResponse, LroOptions, Method, PollStatus, RetryPolicy,
};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

const EP: &str = "https://management.azure.com/";

enum Answer {
    Respond(ArmResponse),
    Fail(TransportErrorKind),
    Hang,
}

fn ok(status: u16, headers: &[(&str, &str)], body: Value) -> Answer {
    Answer::Respond(ArmResponse::json(status, headers, &body))
}

fn empty(status: u16, headers: &[(&str, &str)]) -> Answer {
    Answer::Respond(ArmResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: vec![],
    })
}

/// Answers requests from a script and records what was sent and when (virtual time).
#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Answer>>,
    sent: Mutex<Vec<(Instant, HttpRequest)>>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script")
    }
}

impl Script {
    fn new(answers: Vec<Answer>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            sent: Mutex::default(),
        })
    }
    fn sent(&self) -> Vec<(Instant, HttpRequest)> {
        self.sent.lock().unwrap().clone()
    }
    fn left(&self) -> usize {
        self.answers.lock().unwrap().len()
    }
}

impl Transport for Script {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<ArmResponse, TransportError>> {
        Box::pin(async move {
            self.sent.lock().unwrap().push((Instant::now(), request));
            let a = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the script has no answer left");
            match a {
                Answer::Respond(r) => Ok(r),
                Answer::Fail(kind) => Err(TransportError {
                    kind,
                    message: "connection reset by peer".into(),
                }),
                Answer::Hang => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
            }
        })
    }
}

/// Hands out `token-N`; `invalidate` moves to the next N.
#[derive(Debug, Default)]
struct Tokens {
    generation: AtomicU32,
    calls: AtomicU32,
}

impl TokenProvider for Tokens {
    fn token<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, dsvmpool::Result<SecretString>> {
        assert_eq!(scope, "https://management.azure.com/.default");
        self.calls.fetch_add(1, Ordering::SeqCst);
        let g = self.generation.load(Ordering::SeqCst);
        Box::pin(async move { Ok(SecretString::new(format!("token-{g}"))) })
    }
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

struct Fixture {
    client: ArmClient,
    script: Arc<Script>,
    tokens: Arc<Tokens>,
    events: Arc<Mutex<Vec<ClientEvent>>>,
}

fn fixture_with(answers: Vec<Answer>, retry: RetryPolicy, lro: LroOptions) -> Fixture {
    let script = Script::new(answers);
    let tokens = Arc::new(Tokens::default());
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let client = ArmClient::with_parts(
        ArmRequests::new(&Url::parse(EP).unwrap(), "sub").unwrap(),
        "https://management.azure.com/.default".into(),
        script.clone(),
        tokens.clone(),
        retry,
        lro,
        Some(Arc::new(move |e: &ClientEvent| {
            ev.lock().unwrap().push(e.clone())
        })),
    );
    client.seed_jitter(11);
    Fixture {
        client,
        script,
        tokens,
        events,
    }
}

fn fixture(answers: Vec<Answer>) -> Fixture {
    fixture_with(
        answers,
        RetryPolicy::default(),
        LroOptions {
            default_poll_interval: Duration::from_secs(60),
            max_wait: None,
        },
    )
}

fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn retries(events: &[ClientEvent]) -> Vec<(Duration, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Retry { delay, reason, .. } => Some((*delay, reason.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_exactly_and_ids_are_stable() {
    let f = fixture(vec![
        ok(
            429,
            &[("Retry-After", "7")],
            json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        ),
        ok(503, &[("Retry-After", "2")], json!({})),
        ok(200, &[], json!({"name": "rg", "location": "westeurope"})),
    ]);
    let t0 = Instant::now();
    let rg = f.client.resource_group_get("rg").await.unwrap().unwrap();
    assert_eq!(rg.location, "westeurope");
    let sent = f.script.sent();
    assert_eq!(sent.len(), 3);
    // Exactly 7 s, then exactly 2 s.
    assert_eq!(sent[1].0 - sent[0].0, Duration::from_secs(7));
    assert_eq!(sent[2].0 - sent[1].0, Duration::from_secs(2));
    assert_eq!(t0.elapsed(), Duration::from_secs(9));
    // One client request id for all attempts; a bearer token on each.
    let id = header(&sent[0].1, "x-ms-client-request-id")
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36);
    for (_, r) in &sent {
        assert_eq!(header(r, "x-ms-client-request-id"), Some(id.as_str()));
        assert_eq!(header(r, "Authorization"), Some("Bearer token-0"));
        assert!(!format!("{r:?}").contains("token-0"));
    }
    let ev = f.events.lock().unwrap();
    assert_eq!(
        retries(&ev),
        vec![
            (Duration::from_secs(7), "HTTP 429".to_string()),
            (Duration::from_secs(2), "HTTP 503".to_string())
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_with_jitter() {
    let f = fixture(vec![
        empty(500, &[]),
        empty(502, &[]),
        empty(504, &[]),
        ok(408, &[], json!({})),
        ok(200, &[], json!({"name": "rg"})),
    ]);
    f.client.resource_group_get("rg").await.unwrap().unwrap();
    let sent = f.script.sent();
    assert_eq!(sent.len(), 5);
    for (n, w) in sent.windows(2).enumerate() {
        let gap = w[1].0 - w[0].0;
        let nominal = Duration::from_secs(1 << n);
        assert!(
            gap >= nominal / 2 && gap <= nominal,
            "retry {n}: waited {gap:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn throttling_beyond_the_budget_is_a_throttled_error_with_request_id() {
    let answers = (0..3)
        .map(|_| {
            ok(
                429,
                &[("Retry-After", "20"), ("x-ms-request-id", "req-429"), ("x-ms-ratelimit-remaining-subscription-reads", "0")],
                json!({"error": {"code": "TooManyRequests", "message": "Number of read requests exceeded the limit"}}),
            )
        })
        .collect();
    let f = fixture_with(
        answers,
        RetryPolicy {
            budget: Duration::from_secs(45),
            ..Default::default()
        },
        LroOptions::default(),
    );
    let t0 = Instant::now();
    let e = f.client.scale_set_get("rg", "pool").await.unwrap_err();
    // 20 + 20 = 40 s spent; a third wait of 20 s would overrun the 45 s budget.
    assert_eq!(t0.elapsed(), Duration::from_secs(40));
    assert_eq!(f.script.left(), 0);
    assert_eq!(e.kind(), ErrorKind::Throttled);
    assert_eq!(
        e.to_string(),
        "GET scale set pool: HTTP 429 TooManyRequests: Number of read requests exceeded the limit (request id req-429)"
    );
    assert_eq!(f.client.rate_limits().reads, Some(0));
    assert!(f.events.lock().unwrap().iter().any(|e| matches!(
        e,
        ClientEvent::RateLimit { remaining, .. } if remaining.reads == Some(0)
    )));
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_then_reported() {
    let f = fixture(vec![
        Answer::Fail(TransportErrorKind::Io),
        Answer::Fail(TransportErrorKind::Connect),
        ok(200, &[], json!({"name": "rg"})),
    ]);
    f.client.resource_group_get("rg").await.unwrap().unwrap();
    assert_eq!(f.script.sent().len(), 3);

    let f = fixture_with(
        (0..3)
            .map(|_| Answer::Fail(TransportErrorKind::Connect))
            .collect(),
        RetryPolicy {
            max_retries: 2,
            ..Default::default()
        },
        LroOptions::default(),
    );
    let e = f.client.resource_group_get("rg").await.unwrap_err();
    match &e {
        dsvmpool::Error::Http {
            status,
            code,
            message,
            request_id,
            ..
        } => {
            assert_eq!(*status, 0);
            assert_eq!(code, "ConnectionFailed");
            assert!(message.contains("gave up after 3 attempts"), "{message}");
            assert_eq!(request_id.len(), 36);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_time_out() {
    let f = fixture_with(
        vec![Answer::Hang, ok(200, &[], json!({"name": "rg"}))],
        RetryPolicy {
            attempt_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        LroOptions::default(),
    );
    let t0 = Instant::now();
    f.client.resource_group_get("rg").await.unwrap().unwrap();
    let el = t0.elapsed();
    assert!(
        el >= Duration::from_millis(30_500) && el <= Duration::from_secs(31),
        "{el:?}"
    );
    let ev = f.events.lock().unwrap();
    assert!(
        retries(&ev)[0].1.contains("no response within 30s"),
        "{:?}",
        retries(&ev)
    );
}

#[tokio::test(start_paused = true)]
async fn expired_token_is_refreshed_once() {
    let f = fixture(vec![
        ok(
            401,
            &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            json!({"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry UTC time is earlier than current UTC time."}}),
        ),
        ok(200, &[], json!({"name": "rg"})),
    ]);
    f.client.resource_group_get("rg").await.unwrap().unwrap();
    let sent = f.script.sent();
    assert_eq!(header(&sent[0].1, "Authorization"), Some("Bearer token-0"));
    assert_eq!(header(&sent[1].1, "Authorization"), Some("Bearer token-1"));
    assert_eq!(
        sent[1].0, sent[0].0,
        "no wait before retrying with a new token"
    );

    let f = fixture(vec![
        ok(
            401,
            &[("x-ms-request-id", "r1")],
            json!({"error": {"code": "ExpiredAuthenticationToken", "message": "expired"}}),
        ),
        ok(
            403,
            &[("x-ms-request-id", "r2")],
            json!({"error": {"code": "AuthorizationFailed", "message": "no role"}}),
        ),
    ]);
    let e = f.client.resource_group_get("rg").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("AuthorizationFailed"), "{e}");
    assert_eq!(f.tokens.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn not_found_and_conflict() {
    let f = fixture(vec![
        ok(
            404,
            &[],
            json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg' could not be found."}}),
        ),
        ok(
            412,
            &[("x-ms-request-id", "r412")],
            json!({"error": {"code": "PreconditionFailed", "message": "The ETag does not match."}}),
        ),
    ]);
    assert!(
        f.client
            .scale_set_get("rg", "pool")
            .await
            .unwrap()
            .is_none()
    );
    let e = f
        .client
        .scale_set_update_capacity("rg", "pool", 5, Some("\"etag-1\""))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let sent = f.script.sent();
    assert_eq!(header(&sent[1].1, "If-Match"), Some("\"etag-1\""));
    assert_eq!(sent[1].1.method, Method::Patch);
}

#[tokio::test(start_paused = true)]
async fn deploy_polls_with_exact_retry_after_then_reads_the_deployment() {
    let aao = "https://management.azure.com/subscriptions/sub/resourcegroups/rg/providers/Microsoft.Resources/deployments/d/operationstatuses/08584?api-version=2024-03-01";
    let f = fixture(vec![
        ok(
            201,
            &[
                ("Azure-AsyncOperation", aao),
                ("Retry-After", "5"),
                ("x-ms-request-id", "put-1"),
            ],
            json!({"name": "d", "properties": {"provisioningState": "Accepted"}}),
        ),
        ok(200, &[("Retry-After", "3")], json!({"status": "Running"})),
        empty(503, &[("Retry-After", "1")]),
        ok(200, &[], json!({"status": "running"})),
        ok(200, &[("Retry-After", "4")], json!({"status": "succeeded"})),
        ok(
            200,
            &[],
            json!({"name": "d", "properties": {"provisioningState": "Succeeded", "outputs": {"fqdn": {"type": "String", "value": "pool.westeurope.cloudapp.azure.com"}}}}),
        ),
    ]);
    let t0 = Instant::now();
    let mut p = f
        .client
        .deploy(
            "rg",
            "d",
            &dsvmpool::azure::models::DeploymentRequest::incremental(json!({}), json!({})),
        )
        .await
        .unwrap();
    assert_eq!(p.status(), Some("Accepted"));
    let mut seen = vec![];
    let out = loop {
        match p.poll().await.unwrap() {
            PollStatus::Running {
                status,
                next_poll_in,
            } => seen.push((status, next_poll_in)),
            PollStatus::Done(o) => break o,
        }
    };
    assert_eq!(
        seen,
        vec![
            (Some("Running".into()), Duration::from_secs(3)),
            // The 503 on the status URL was retried by the client (1 s), not a failure.
            (Some("running".into()), Duration::from_secs(60)),
            (Some("succeeded".into()), Duration::ZERO),
        ]
    );
    // 5 + 3 + 1 + 60 + 0 seconds of waiting, exactly.
    assert_eq!(t0.elapsed(), Duration::from_secs(69));
    assert_eq!(
        out.body.unwrap()["properties"]["outputs"]["fqdn"]["value"],
        "pool.westeurope.cloudapp.azure.com"
    );
    let sent = f.script.sent();
    assert_eq!(sent.len(), 6);
    assert_eq!(sent[0].1.method, Method::Put);
    assert!(sent[1..5].iter().all(|(_, r)| r.url.as_str() == aao));
    assert!(sent[5].1.url.path().ends_with("/deployments/d"));
    let polls = f
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ClientEvent::Poll { .. }))
        .count();
    assert_eq!(polls, 4);
}

#[tokio::test(start_paused = true)]
async fn failed_operation_names_operation_code_and_request_id() {
    let f = fixture(vec![
        ok(
            201,
            &[
                ("Azure-AsyncOperation", "/op/1"),
                ("Retry-After", "1"),
                ("x-ms-request-id", "put-req"),
            ],
            json!({}),
        ),
        ok(
            200,
            &[],
            json!({"status": "Failed", "error": {"code": "DeploymentFailed", "message": "At least one resource deployment operation failed.", "details": [{"code": "QuotaExceeded", "message": "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota."}]}}),
        ),
    ]);
    let mut p = f
        .client
        .deploy("rg", "d", &Default::default())
        .await
        .unwrap();
    let e = p.poll().await.unwrap_err();
    // Polling again after the failure sends nothing more.
    assert!(
        p.poll()
            .await
            .unwrap_err()
            .to_string()
            .contains("already ended")
    );
    assert_eq!(f.script.sent().len(), 2);
    let s = e.to_string();
    assert!(
        s.starts_with("PUT deployment d: HTTP 200 DeploymentFailed: the operation ended Failed"),
        "{s}"
    );
    assert!(s.contains("QuotaExceeded"), "{s}");
    assert!(s.ends_with("(request id put-req)"), "{s}");
}

#[tokio::test(start_paused = true)]
async fn status_read_failure_after_retries_is_not_an_operation_failure() {
    let mut answers = vec![ok(
        202,
        &[
            ("Location", "/subscriptions/sub/operationresults/x"),
            ("Retry-After", "1"),
        ],
        json!({}),
    )];
    answers.extend((0..3).map(|_| empty(500, &[("x-ms-request-id", "poll-500")])));
    let f = fixture_with(
        answers,
        RetryPolicy {
            max_retries: 2,
            ..Default::default()
        },
        LroOptions::default(),
    );
    let mut p = f
        .client
        .scale_set_deallocate("rg", "pool", None)
        .await
        .unwrap();
    let e = p.poll().await.unwrap_err();
    let s = e.to_string();
    assert!(s.contains("could not read the operation status"), "{s}");
    assert!(s.contains("may still be running"), "{s}");
    assert!(s.contains("request id poll-500"), "{s}");
    assert_eq!(p.state().phase, Phase::Polling);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_wait_stops_io_and_the_state_resumes() {
    let f = fixture(vec![
        ok(
            202,
            &[
                ("Location", "/subscriptions/sub/operationresults/y"),
                ("Retry-After", "10"),
            ],
            json!({}),
        ),
        empty(202, &[("Retry-After", "10")]),
        // Consumed only after the resume.
        empty(200, &[]),
    ]);
    let p = f.client.scale_set_start("rg", "pool", None).await.unwrap();
    let mut p = p;
    assert!(matches!(
        p.poll().await.unwrap(),
        PollStatus::Running { .. }
    ));
    let saved = serde_json::to_string(p.state()).unwrap();
    // Ctrl-C while waiting: the future is dropped mid-sleep.
    let r = tokio::time::timeout(Duration::from_secs(5), p.wait()).await;
    assert!(r.is_err(), "the wait was cut short");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(f.script.sent().len(), 2, "no request after the drop");
    // The next run resumes from the saved state.
    let state = serde_json::from_str(&saved).unwrap();
    let out = f.client.resume(state).unwrap().wait().await.unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(f.script.left(), 0);
}

#[tokio::test(start_paused = true)]
async fn max_wait_gives_up_but_leaves_the_operation_resumable() {
    let f = fixture_with(
        vec![
            ok(
                201,
                &[("Azure-AsyncOperation", "/op/2"), ("Retry-After", "30")],
                json!({}),
            ),
            ok(200, &[("Retry-After", "30")], json!({"status": "Running"})),
        ],
        RetryPolicy::default(),
        LroOptions {
            default_poll_interval: Duration::from_secs(60),
            max_wait: Some(Duration::from_secs(45)),
        },
    );
    let e = f
        .client
        .deploy("rg", "d", &Default::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    let s = e.to_string();
    assert!(
        s.contains("OperationTimeout") && s.contains("still Running"),
        "{s}"
    );
}

#[tokio::test(start_paused = true)]
async fn lists_follow_next_link() {
    let f = fixture(vec![
        ok(
            200,
            &[],
            json!({"value": [{"instanceId": "0", "properties": {"instanceView": {"statuses": [{"code": "PowerState/running"}]}}}],
                            "nextLink": "https://management.azure.com/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines?api-version=2024-07-01&$skiptoken=1"}),
        ),
        ok(
            200,
            &[],
            json!({"value": [{"instanceId": "1", "properties": {"instanceView": {"statuses": [{"code": "PowerState/deallocated"}]}}}]}),
        ),
    ]);
    let vms: Vec<ScaleSetVm> = f
        .client
        .scale_set_instances("rg", "pool", true)
        .await
        .unwrap();
    assert_eq!(vms.len(), 2);
    assert_eq!(
        vms.iter()
            .map(|v| v.power_state().unwrap())
            .collect::<Vec<_>>(),
        vec![
            dsvmpool::azure::models::PowerState::Running,
            dsvmpool::azure::models::PowerState::Deallocated
        ]
    );
    let sent = f.script.sent();
    assert!(sent[0].1.url.as_str().ends_with("&$expand=instanceView"));
    assert!(sent[1].1.url.as_str().contains("skiptoken=1"));
}

#[tokio::test(start_paused = true)]
async fn tokens_never_leave_the_management_endpoint() {
    let f = fixture(vec![ok(
        200,
        &[],
        json!({"value": [], "nextLink": "https://attacker.example/steal"}),
    )]);
    let e = f
        .client
        .scale_set_instances("rg", "pool", false)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string()
            .contains("does not send credentials to other hosts"),
        "{e}"
    );
    assert_eq!(f.script.sent().len(), 1);
    // A request built by hand for another host is refused before any token is fetched.
    let mut req = f.client.requests().resource_group_get("rg").unwrap();
    req.url = Url::parse("https://attacker.example/x").unwrap();
    let calls = f.tokens.calls.load(Ordering::SeqCst);
    assert!(f.client.send(&req).await.is_err());
    assert_eq!(f.tokens.calls.load(Ordering::SeqCst), calls);
}

#[tokio::test(start_paused = true)]
async fn delete_of_a_missing_resource_is_done() {
    let f = fixture(vec![
        ok(
            404,
            &[],
            json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
        ),
        empty(
            202,
            &[
                ("Location", "/subscriptions/sub/operationresults/z"),
                ("Retry-After", "2"),
            ],
        ),
        empty(204, &[]),
    ]);
    let id = f
        .client
        .requests()
        .resource_id("rg", &["Microsoft.Network", "loadBalancers", "lb"]);
    let p = f.client.delete_resource(&id, "2024-05-01").await.unwrap();
    assert!(p.is_done());
    let out = f
        .client
        .delete_resource(&id, "2024-05-01")
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, 204);
}

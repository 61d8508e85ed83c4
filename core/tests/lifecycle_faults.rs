//! Each fault class the ARM test double injects, met by the lifecycle functions: every run ends
//! converged, or with an error naming the operation, the ARM code and a request id — and a
//! rerun converges without creating anything twice. Plus an interrupted deploy resumed by
//! rerunning, and concurrent `scale` calls that lose no update.

mod lifecycle_common;

use dsvmpool::lifecycle::{DeployAction, Progress, deploy, scale, status};
use dsvmpool::{Error, ErrorKind, ValidPool};
use dsvmpool_arm_double::{FaultAction, Running};
use lifecycle_common::*;
use std::sync::Arc;

fn http(e: &Error) -> (String, String, String) {
    match e {
        Error::Http {
            operation,
            code,
            request_id,
            ..
        } => (operation.clone(), code.clone(), request_id.clone()),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

/// Deploys and checks the pool is there, with exactly one successful deployment PUT per
/// resource creation and every resource created once.
async fn converged(d: &Running, pool: &ValidPool) {
    let c = client(d, pool, None);
    let st = status(&c, pool).await.unwrap();
    assert!(st.deployed, "{st}");
    assert_eq!(st.deployment.as_ref().unwrap().1, "Succeeded");
    assert_eq!(st.instances.len(), 2);
    // Nothing created twice: exactly the template's resources, and the scale set's first two
    // instances (a second creation would have made new instances).
    let snap = d.snapshot();
    let resources = snap["resources"].as_array().cloned().unwrap_or_default();
    let template = dsvmpool::render::render(&pool.clone(), &Default::default())
        .unwrap()
        .template;
    assert_eq!(
        resources.len(),
        template["resources"].as_array().unwrap().len(),
        "{}",
        serde_json::to_string(&resources.iter().map(|r| &r["id"]).collect::<Vec<_>>()).unwrap()
    );
    let vmss = resources
        .iter()
        .find(|r| r["name"] == "lab-vmss")
        .expect("the scale set");
    let ids: Vec<&str> = vmss["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["instanceId"].as_str())
        .collect();
    assert_eq!(ids, vec!["0", "1"]);
    assert_eq!(snap["deployments"].as_array().unwrap().len(), 1);
}

async fn deploy_with_fault(action: FaultAction, method: &str, path: &str, times: u32) -> Running {
    let d = double();
    d.add_fault(fault(method, path, 1, times, action)).unwrap();
    let pool = secret_pool();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));
    let out = deploy(&c, &pool, &deploy_options(&d, Some(sink)))
        .await
        .unwrap_or_else(|e| panic!("deploy did not converge: {e}"));
    assert_eq!(out.action, DeployAction::Created);
    assert!(
        d.faults().iter().all(|f| f.fired >= 1),
        "the fault fired: {:?}",
        d.faults()
    );
    assert_eq!(
        deployment_puts(&d),
        1,
        "{:?}",
        calls(&d.management_requests())
    );
    let retried = events.lock().unwrap().iter().any(|e| {
        matches!(
            e,
            Progress::Client {
                detail: dsvmpool::azure::ClientEvent::Retry { .. }
            }
        )
    });
    assert!(retried, "the retry was reported");
    converged(&d, &pool).await;
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_deployment_put_is_retried_after_retry_after() {
    let d = deploy_with_fault(
        FaultAction::Throttle {
            retry_after_secs: 20.0,
        },
        "PUT",
        "*/Microsoft.Resources/deployments/*",
        1,
    )
    .await;
    let puts: Vec<_> = d
        .management_requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path_matches("*/deployments/*"))
        .collect();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0].status, 429);
    // Retry-After (20 simulated seconds) was honoured before the second attempt.
    assert!(puts[1].sim_secs - puts[0].sim_secs >= 19.0, "{puts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_on_status_polls_and_validate_are_retried() {
    deploy_with_fault(
        FaultAction::ServerError {
            status: 503,
            retry_after_secs: Some(1.0),
        },
        "GET",
        "*/operationStatuses/*",
        2,
    )
    .await;
    deploy_with_fault(
        FaultAction::ServerError {
            status: 500,
            retry_after_secs: None,
        },
        "POST",
        "*/validate",
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_creates_nothing_twice() {
    deploy_with_fault(
        FaultAction::ConnectionReset,
        "PUT",
        "*/Microsoft.Resources/deployments/*",
        1,
    )
    .await;
    deploy_with_fault(FaultAction::ConnectionReset, "PUT", "*/resourcegroups/*", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_replaced() {
    deploy_with_fault(FaultAction::ExpiredToken, "GET", "*/operationStatuses/*", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_poll_is_waited_for() {
    let d = double();
    d.add_fault(fault(
        "PUT",
        "*/Microsoft.Resources/deployments/*",
        1,
        1,
        FaultAction::SlowPoll {
            retry_after_secs: Some(60.0),
            delay_secs: Some(2.0),
        },
    ))
    .unwrap();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    let out = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(out.state, "Succeeded");
    let polls: Vec<_> = d
        .management_requests()
        .into_iter()
        .filter(|r| r.path_matches("*/operationStatuses/*"))
        .collect();
    assert!(!polls.is_empty());
    // Every poll honoured the long Retry-After: at most one poll per 60 simulated seconds.
    for w in polls.windows(2) {
        assert!(w[1].sim_secs - w[0].sim_secs >= 59.0, "{polls:?}");
    }
    converged(&d, &pool).await;
}

async fn failed_then_rerun(action: FaultAction, method: &str, path: &str, want_code: &str) {
    let d = double();
    d.add_fault(fault(method, path, 1, 1, action)).unwrap();
    let pool = secret_pool();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));
    let e = deploy(&c, &pool, &deploy_options(&d, Some(sink)))
        .await
        .unwrap_err();
    let (op, code, rid) = http(&e);
    assert_eq!(op, "PUT deployment dsvmpool-lab", "{e}");
    assert_eq!(code, want_code, "{e}");
    assert!(!rid.is_empty(), "{e}");
    let text = e.to_string();
    assert!(text.contains(&rid) && text.contains(want_code), "{text}");
    assert!(!text.contains(PASSWORD) && !format!("{e:?}").contains(PASSWORD));
    // The rerun deploys again and converges; nothing exists twice.
    let out = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(out.state, "Succeeded");
    assert_eq!(out.action, DeployAction::Updated);
    assert_eq!(deployment_puts(&d), 2);
    converged(&d, &pool).await;
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_or_canceled_deployment_is_a_clear_error_and_a_rerun_converges() {
    failed_then_rerun(
        FaultAction::OperationFailed {
            code: "DeploymentFailed".into(),
            message: "injected".into(),
        },
        "PUT",
        "*/Microsoft.Resources/deployments/*",
        "DeploymentFailed",
    )
    .await;
    failed_then_rerun(
        FaultAction::OperationCanceled,
        "PUT",
        "*/Microsoft.Resources/deployments/*",
        "DeploymentCanceled",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_resource_is_named_in_progress_and_error() {
    let d = double();
    d.add_fault(fault(
        "PUT",
        "*/virtualMachineScaleSets/lab-vmss",
        1,
        1,
        FaultAction::OperationFailed {
            code: "AllocationFailed".into(),
            message: "no capacity for Standard_D4s_v5 (injected)".into(),
        },
    ))
    .unwrap();
    let pool = secret_pool();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));
    let e = deploy(&c, &pool, &deploy_options(&d, Some(sink)))
        .await
        .unwrap_err();
    let (op, code, rid) = http(&e);
    assert_eq!(op, "PUT deployment dsvmpool-lab");
    assert_eq!(code, "DeploymentFailed");
    assert!(!rid.is_empty());
    assert!(e.to_string().contains("AllocationFailed"), "{e}");
    let failed = events.lock().unwrap().iter().any(|ev| {
        matches!(ev, Progress::Resource(r) if r.name == "lab-vmss" && r.state == "Failed"
            && r.message.as_deref().is_some_and(|m| m.contains("AllocationFailed")))
    });
    assert!(failed, "the failed resource is reported with its error");
    deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    converged(&d, &pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_template_creates_nothing() {
    let d = double();
    d.add_fault(fault(
        "POST",
        "*/validate",
        1,
        0,
        FaultAction::Error {
            status: 400,
            code: "InvalidTemplateDeployment".into(),
            message: "The template deployment 'dsvmpool-lab' is not valid (injected).".into(),
            retry_after_secs: None,
        },
    ))
    .unwrap();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    let e = deploy(&c, &pool, &deploy_options(&d, None))
        .await
        .unwrap_err();
    let (op, code, rid) = http(&e);
    assert_eq!(op, "validate deployment dsvmpool-lab");
    assert_eq!(code, "InvalidTemplateDeployment");
    assert!(!rid.is_empty());
    assert_eq!(deployment_puts(&d), 0);
    assert!(
        d.snapshot()["resources"]
            .as_array()
            .is_none_or(|r| r.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_named_and_nothing_is_sent() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    let mut opts = deploy_options(&d, None);
    opts.env = Some(Arc::new(|_: &str| None));
    let e = deploy(&c, &pool, &opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("TEAM_ADMIN_PASSWORD"), "{e}");
    assert!(d.management_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_travel_only_in_the_deployment_body() {
    let d = double();
    let pool = secret_pool();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));
    let out = deploy(&c, &pool, &deploy_options(&d, Some(sink)))
        .await
        .unwrap();
    let carrying: Vec<_> = d
        .requests()
        .into_iter()
        .filter(|r| {
            r.body.contains(PASSWORD) || r.path.contains(PASSWORD) || r.query.contains(PASSWORD)
        })
        .collect();
    assert!(!carrying.is_empty());
    for r in &carrying {
        assert!(
            r.method == "PUT" && r.path_matches("*/deployments/dsvmpool-lab")
                || r.method == "POST" && r.path_matches("*/deployments/dsvmpool-lab/validate"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.json().unwrap()["properties"]["parameters"]["adminPassword"]["value"],
            PASSWORD
        );
    }
    let shown = format!("{out:?} {:?}", events.lock().unwrap());
    assert!(!shown.contains(PASSWORD));
    assert!(!serde_json::to_string(&out).unwrap().contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_deploy_is_resumed_by_rerunning() {
    // Slower simulated time, so the deployment is still running when the rerun starts.
    let d = double_with(0.005);
    let pool = secret_pool();
    let started = Arc::new(tokio::sync::Notify::new());
    let s2 = started.clone();
    let watch: dsvmpool::lifecycle::ProgressSink = Arc::new(move |p: &Progress| {
        if matches!(p, Progress::Waiting { .. }) {
            s2.notify_one();
        }
    });
    let c = client(&d, &pool, None);
    let opts = deploy_options(&d, Some(watch));
    tokio::select! {
        r = deploy(&c, &pool, &opts) => panic!("the deploy finished before the interruption: {r:?}"),
        _ = started.notified() => {}
    }
    // Interrupted (the future is dropped, as on Ctrl-C): the deployment goes on in the service.
    assert_eq!(deployment_puts(&d), 1);
    let (sink2, events2) = sink();
    let out = deploy(&c, &pool, &deploy_options(&d, Some(sink2)))
        .await
        .unwrap();
    assert!(out.reattached, "{out:?}");
    assert_eq!(out.state, "Succeeded");
    assert!(out.outputs.fqdn.is_some());
    assert_eq!(deployment_puts(&d), 1, "re-attached, not submitted again");
    assert!(
        events2
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Progress::Step { step, .. } if step == "re-attach"))
    );
    // And once finished, a rerun has nothing to do.
    d.clear_requests();
    let out = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(out.action, DeployAction::Unchanged);
    assert!(writes(&d).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_survives_faults() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    d.add_fault(fault(
        "PATCH",
        "*/virtualMachineScaleSets/*",
        1,
        1,
        FaultAction::ServerError {
            status: 503,
            retry_after_secs: Some(2.0),
        },
    ))
    .unwrap();
    d.add_fault(fault(
        "GET",
        "*/virtualMachineScaleSets/lab-vmss",
        1,
        1,
        FaultAction::Throttle {
            retry_after_secs: 3.0,
        },
    ))
    .unwrap();
    let out = scale(&c, &pool, 4, None).await.unwrap();
    assert_eq!((out.from, out.to), (2, 4));
    assert_eq!(status(&c, &pool).await.unwrap().instances.len(), 4);
    // An operation that fails is an error naming it.
    d.add_fault(fault(
        "PATCH",
        "*/virtualMachineScaleSets/*",
        1,
        1,
        FaultAction::OperationFailed {
            code: "QuotaExceeded".into(),
            message: "Operation could not be completed as it results in exceeding approved quota (injected)".into(),
        },
    ))
    .unwrap();
    let e = scale(&c, &pool, 7, None).await.unwrap_err();
    let (op, code, rid) = http(&e);
    assert_eq!(op, "scale lab-vmss to 7");
    assert_eq!(code, "QuotaExceeded");
    assert!(!rid.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_scale_between_read_and_write_is_not_lost() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    d.clear_requests();

    // Caller A reads the scale set; before it writes, caller B scales (read, write, wait).
    let (sink_a, events_a) = sink();
    let c_b = c.clone();
    let pool_b = pool.clone();
    let once = Arc::new(std::sync::Once::new());
    let handle = tokio::runtime::Handle::current();
    let hook: dsvmpool::lifecycle::ProgressSink = Arc::new(move |p: &Progress| {
        sink_a(p);
        if matches!(p, Progress::Step { step, .. } if step == "scale") {
            once.call_once(|| {
                tokio::task::block_in_place(|| {
                    handle
                        .block_on(scale(&c_b, &pool_b, 6, None))
                        .expect("B scales");
                });
            });
        }
    });
    let a = scale(&c, &pool, 3, Some(hook)).await.unwrap();
    assert_eq!(a.conflicts, 1, "{a:?}");
    assert_eq!(a.to, 3);
    let conflict = events_a.lock().unwrap().iter().any(|e| {
        matches!(e, Progress::Conflict { message, .. } if message.contains("PreconditionFailed"))
    });
    assert!(conflict, "the conflict was reported");
    let patches: Vec<_> = d
        .management_requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    // B's write, A's refused stale write, A's write on top of B's.
    let statuses: Vec<u16> = patches.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![202, 412, 202], "{:?}", calls(&patches));
    assert_eq!(patches[0].json().unwrap()["sku"]["capacity"], 6);
    assert_eq!(patches[2].json().unwrap()["sku"]["capacity"], 3);
    assert_ne!(
        patches[1].headers["if-match"],
        patches[2].headers["if-match"]
    );
    assert_eq!(
        status(&c, &pool).await.unwrap().scale_set.unwrap().capacity,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_scales_both_apply() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    for round in 0..3 {
        d.clear_requests();
        let (x, y) = (3 + round, 6 + round);
        let (a, b) = tokio::join!(scale(&c, &pool, x, None), scale(&c, &pool, y, None));
        let (a, b) = (a.unwrap(), b.unwrap());
        let patches: Vec<_> = d
            .management_requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect();
        let applied: Vec<u64> = patches
            .iter()
            .filter(|r| r.status == 202)
            .map(|r| r.json().unwrap()["sku"]["capacity"].as_u64().unwrap())
            .collect();
        // Each call's change was applied (never a blind overwrite): both values were written,
        // and every refused write was a stale ETag that the caller re-read and retried.
        assert!(
            applied.contains(&u64::from(x)) && applied.contains(&u64::from(y)),
            "{applied:?}"
        );
        let refused = patches.iter().filter(|r| r.status == 412).count() as u32;
        assert_eq!(refused, a.conflicts + b.conflicts);
        let last = *applied.last().unwrap() as u32;
        assert_eq!(
            status(&c, &pool).await.unwrap().scale_set.unwrap().capacity,
            last
        );
    }
}

//! Operations in less common situations, against the ARM test double: a shared resource group
//! that dsvmpool did not create (destroy leaves it and its other resources), protected
//! instances (stop and start leave them alone), concurrent deploys, and events serializing as
//! JSON for the bindings.

mod lifecycle_common;

use dsvmpool::azure::models::{ProtectionPolicy, ResourceGroup};
use dsvmpool::lifecycle::{
    DeployAction, Progress, deploy, destroy, destroy_preview, start, status, stop,
};
use lifecycle_common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_in_a_shared_group_deletes_only_the_pool() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    // The group exists already (not created by dsvmpool) and holds something else.
    let rg: ResourceGroup = serde_json::from_value(json!({"location": "westeurope"})).unwrap();
    c.resource_group_put("rg-lab", &rg).await.unwrap();
    let other = format!(
        "{}/providers/Microsoft.Network/publicIPAddresses/someone-elses-ip",
        c.requests().resource_group_id("rg-lab")
    );
    let put = c
        .requests()
        .get_resource(&other, "2024-05-01")
        .map(|mut r| {
            r.method = dsvmpool::azure::Method::Put;
            r.body = Some(
                json!({"location": "westeurope", "sku": {"name": "Standard"},
                                 "properties": {"publicIPAllocationMethod": "Static"}}),
            );
            r
        })
        .unwrap();
    c.begin(&put).await.unwrap().wait().await.unwrap();

    let out = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(out.action, DeployAction::Created);
    // The existing group was not written to.
    assert_eq!(
        d.management_requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path_matches("*/resourcegroups/rg-lab"))
            .count(),
        1,
        "only the test's own PUT"
    );

    let plan = destroy_preview(&c, &pool).await.unwrap();
    assert!(plan.exists && !plan.delete_group, "{plan}");
    assert_eq!(plan.kept, vec![other.clone()]);
    assert!(plan.resources.iter().any(|r| r.ends_with("/lab-vmss")));
    assert!(
        plan.resources
            .last()
            .unwrap()
            .ends_with("/deployments/dsvmpool-lab")
    );
    // Newest first: the autoscale setting before the scale set, the scale set before the
    // load balancer.
    let pos = |s: &str| plan.resources.iter().position(|r| r.ends_with(s)).unwrap();
    assert!(pos("/lab-autoscale") < pos("/lab-vmss"));
    assert!(pos("/lab-vmss") < pos("/lab-lb"));
    assert!(
        !plan.resources.iter().any(|r| r.contains("/fileServices/")),
        "children go with their parent"
    );

    let (sink, events) = sink();
    let gone = destroy(&c, &pool, Some(sink)).await.unwrap();
    assert_eq!(gone.deleted, plan.resources);
    assert!(
        events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Progress::Step { step, .. } if step == "delete"))
    );
    let left = d.snapshot()["resources"].as_array().cloned().unwrap();
    let ids: Vec<&str> = left.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, vec![other.as_str()]);
    assert!(c.resource_group_get("rg-lab").await.unwrap().is_some());
    assert!(!status(&c, &pool).await.unwrap().deployed);
    let again = destroy_preview(&c, &pool).await.unwrap();
    assert!(!again.exists, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_instances_are_left_running_by_stop() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    c.scale_set_instance_protection(
        "rg-lab",
        "lab-vmss",
        "1",
        &ProtectionPolicy {
            protect_from_scale_in: Some(true),
            protect_from_scale_set_actions: Some(true),
        },
    )
    .await
    .unwrap()
    .wait()
    .await
    .unwrap();
    let st = status(&c, &pool).await.unwrap();
    let one = st.instances.iter().find(|i| i.instance_id == "1").unwrap();
    assert!(one.protect_from_scale_set_actions && one.protect_from_scale_in);
    assert!(st.to_string().contains("protected from scale-set actions"));

    d.clear_requests();
    let (sink, events) = sink();
    let s = stop(&c, &pool, Some(sink)).await.unwrap();
    assert_eq!(s.deallocated, vec!["0"]);
    assert_eq!(s.protected, vec!["1"]);
    let dealloc = d
        .management_requests()
        .into_iter()
        .find(|r| r.path_matches("*/deallocate"))
        .unwrap();
    assert_eq!(dealloc.json().unwrap(), json!({"instanceIds": ["0"]}));
    assert!(events.lock().unwrap().iter().any(
        |e| matches!(e, Progress::Warning { message } if message.contains("instance 1 is protected"))
    ));
    let st = status(&c, &pool).await.unwrap();
    assert_eq!(st.power.get("deallocated"), Some(&1));
    assert_eq!(st.power.get("running"), Some(&1));
    // Autoscale is off, but an instance still runs: not reported as stopped.
    assert!(!st.stopped, "an instance still runs");

    let s = start(&c, &pool, None).await.unwrap();
    assert_eq!(s.started, vec!["0"]);
    assert!(s.autoscale_enabled);
    assert_eq!(
        status(&c, &pool).await.unwrap().power.get("running"),
        Some(&2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_deploys_create_the_pool_once() {
    let d = double();
    let pool = secret_pool();
    let c = client(&d, &pool, None);
    let opts = deploy_options(&d, None);
    let (a, b) = tokio::join!(deploy(&c, &pool, &opts), deploy(&c, &pool, &opts));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.state.as_str(), b.state.as_str()),
        ("Succeeded", "Succeeded")
    );
    assert_eq!(a.outputs, b.outputs);
    assert_eq!(
        deployment_puts(&d),
        1,
        "{:?}",
        calls(&d.management_requests())
    );
    assert!(a.reattached || b.reattached);
    assert_eq!(status(&c, &pool).await.unwrap().instances.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_events_serialize_for_the_bindings() {
    let d = double();
    let pool = secret_pool();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));
    deploy(&c, &pool, &deploy_options(&d, Some(sink)))
        .await
        .unwrap();
    let ev = events.lock().unwrap();
    let kinds: std::collections::BTreeSet<String> = ev
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in ["step", "resource", "waiting"] {
        assert!(kinds.contains(k), "{kinds:?}");
    }
    let r = ev
        .iter()
        .find(|e| matches!(e, Progress::Resource(_)))
        .unwrap();
    let v = serde_json::to_value(r).unwrap();
    assert!(v["resource_type"].is_string() && v["name"].is_string() && v["state"].is_string());
    assert!(v["elapsed_secs"].is_number());
}

//! The lifecycle end to end through the core API, against the ARM test double the test starts:
//! deploy → status → scale 5 → stop → start → plan shows no changes → destroy, and a second
//! deploy of the same spec that makes no write call.

mod lifecycle_common;

use dsvmpool::lifecycle::{
    self, DeployAction, PlanOptions, Progress, deploy, destroy, destroy_preview, plan_live, scale,
    start, status, stop,
};
use lifecycle_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_operate_and_destroy_the_team_pool() {
    let d = double();
    let pool = team();
    let (sink, events) = sink();
    let c = client(&d, &pool, Some(sink.clone()));

    // Before: nothing there.
    let st = status(&c, &pool).await.unwrap();
    assert!(!st.deployed);
    let p = plan_live(&c, &pool, &PlanOptions::default()).await.unwrap();
    assert!(!p.live.resource_group_exists);
    assert!(p.live.changes > 0, "{}", p.live.summary);
    d.clear_requests();

    // Deploy.
    let out = deploy(&c, &pool, &deploy_options(&d, Some(sink.clone())))
        .await
        .unwrap();
    assert_eq!(out.action, DeployAction::Created);
    assert_eq!(out.state, "Succeeded");
    assert_eq!(out.instance_count, Some(2));
    let fqdn = out.outputs.fqdn.clone().expect("fqdn output");
    assert!(fqdn.starts_with("team"), "{fqdn}");
    assert_eq!(
        out.outputs.jupyterhub_url.as_deref(),
        Some(format!("https://{fqdn}:8000/").as_str())
    );
    assert_eq!(
        out.outputs.ssh_command.as_deref(),
        Some(format!("ssh dsvmadmin@{fqdn}").as_str())
    );
    assert!(
        out.resources.iter().all(|r| r.state == "Succeeded"),
        "{:?}",
        out.resources
    );
    assert!(out.resources.len() >= 9, "{:?}", out.resources);
    // Progress: every resource was announced, then reported running and finished.
    {
        let ev = events.lock().unwrap();
        let vmss: Vec<&str> = ev
            .iter()
            .filter_map(|e| match e {
                Progress::Resource(r) if r.name == "team-vmss" => Some(r.state.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(vmss.first(), Some(&"Waiting"), "{vmss:?}");
        assert_eq!(vmss.last(), Some(&"Succeeded"), "{vmss:?}");
        for step in ["render", "read", "resource group", "validate", "submit"] {
            assert!(
                ev.iter()
                    .any(|e| matches!(e, Progress::Step { step: s, .. } if s == step)),
                "no step {step}"
            );
        }
    }
    let w = writes(&d);
    assert_eq!(
        calls(&w).len(),
        3,
        "resource group, validate, deployment: {:?}",
        calls(&w)
    );
    assert_eq!(deployment_puts(&d), 1);

    // A second deploy of the same spec makes no write call.
    d.clear_requests();
    let again = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(again.action, DeployAction::Unchanged);
    assert_eq!(again.outputs, out.outputs);
    assert!(writes(&d).is_empty(), "{:?}", calls(&writes(&d)));
    assert!(
        d.management_requests().len() <= 2,
        "{:?}",
        calls(&d.management_requests())
    );

    // Status.
    let st = status(&c, &pool).await.unwrap();
    assert!(st.deployed);
    assert_eq!(st.scale_set.as_ref().unwrap().capacity, 2);
    assert_eq!(st.instances.len(), 2);
    assert!(st.instances.iter().all(|i| i.power_state == "running"));
    assert_eq!(st.power.get("running"), Some(&2));
    let a = st.autoscale.as_ref().unwrap();
    assert!(a.enabled);
    assert_eq!(a.profiles.len(), 2);
    assert_eq!(a.range(), Some((0, 12)));
    assert_eq!(st.addresses.fqdn.as_deref(), Some(fqdn.as_str()));
    assert!(!st.stopped);
    let text = st.to_string();
    assert!(
        text.contains("capacity 2") && text.contains("2 running"),
        "{text}"
    );

    // Scale to 5.
    d.clear_requests();
    let sc = scale(&c, &pool, 5, Some(sink.clone())).await.unwrap();
    assert_eq!((sc.from, sc.to, sc.changed, sc.conflicts), (2, 5, true, 0));
    assert!(!sc.warnings.is_empty(), "autoscale is on");
    let patch: Vec<_> = writes(&d);
    assert_eq!(patch.len(), 1, "{:?}", calls(&patch));
    assert_eq!(patch[0].method, "PATCH");
    assert!(patch[0].headers.contains_key("if-match"));
    let st = status(&c, &pool).await.unwrap();
    assert_eq!(st.scale_set.as_ref().unwrap().capacity, 5);
    assert_eq!(st.power.get("running"), Some(&5));
    // Scaling to the same capacity again writes nothing.
    d.clear_requests();
    let same = scale(&c, &pool, 5, None).await.unwrap();
    assert!(!same.changed);
    assert!(writes(&d).is_empty());

    // Stop: autoscale off, every instance deallocated.
    d.clear_requests();
    let so = stop(&c, &pool, Some(sink.clone())).await.unwrap();
    assert!(so.autoscale_disabled);
    assert_eq!(so.deallocated.len(), 5);
    let w = writes(&d);
    assert_eq!(calls(&w).len(), 2, "{:?}", calls(&w));
    assert!(w[0].path_matches("*/autoscalesettings/team-autoscale"));
    assert_eq!(w[0].json().unwrap()["properties"]["enabled"], false);
    assert!(w[1].path_matches("*/deallocate"));
    let st = status(&c, &pool).await.unwrap();
    assert!(st.stopped, "{st}");
    assert_eq!(st.power.get("deallocated"), Some(&5));
    assert_eq!(st.scale_set.as_ref().unwrap().capacity, 5);
    // Stopping again writes nothing.
    d.clear_requests();
    let again = stop(&c, &pool, None).await.unwrap();
    assert!(!again.changed);
    assert!(writes(&d).is_empty());
    // While stopped, the plan shows no changes either.
    let p = plan_live(&c, &pool, &PlanOptions::default()).await.unwrap();
    assert!(p.no_changes(), "{p}");

    // Start: instances started, autoscale on again.
    let so = start(&c, &pool, Some(sink.clone())).await.unwrap();
    assert_eq!(so.started.len(), 5);
    assert!(so.autoscale_enabled);
    let st = status(&c, &pool).await.unwrap();
    assert!(!st.stopped);
    assert_eq!(st.power.get("running"), Some(&5));
    assert!(st.autoscale.as_ref().unwrap().enabled);

    // Plan: no changes (capacity 5 is autoscale's business).
    d.clear_requests();
    let p = plan_live(&c, &pool, &PlanOptions::default()).await.unwrap();
    assert!(p.no_changes(), "{p}");
    assert!(p.live.what_if);
    assert!(p.live.up_to_date);
    assert_eq!(p.live.capacity, Some(5));
    assert!(p.to_string().contains("no changes"), "{p}");
    assert!(
        writes(&d)
            .iter()
            .all(|r| r.path_matches("*/deployments/*/whatIf")),
        "plan only asks what-if: {:?}",
        calls(&writes(&d))
    );
    // And a redeploy keeps the capacity autoscale set.
    let again = deploy(&c, &pool, &deploy_options(&d, None)).await.unwrap();
    assert_eq!(again.action, DeployAction::Unchanged);

    // A changed spec is drift.
    let mut bigger = pool.spec().clone();
    bigger.vm.size = "Standard_D8s_v5".into();
    let bigger = dsvmpool::Pool::from_spec(bigger).validate().unwrap();
    let p = plan_live(&c, &bigger, &PlanOptions::default())
        .await
        .unwrap();
    assert_eq!(p.live.changes, 1, "{p}");
    let vm = p
        .plan
        .resources
        .iter()
        .find(|r| r.name == "team-vmss")
        .unwrap();
    assert_eq!(vm.action, lifecycle::plan::Action::Modify);
    assert!(vm.detail.contains("Standard_D8s_v5"), "{}", vm.detail);

    // Destroy: the group dsvmpool created goes as a whole.
    let pre = destroy_preview(&c, &pool).await.unwrap();
    assert!(pre.exists && pre.delete_group, "{pre}");
    d.clear_requests();
    let gone = destroy(&c, &pool, Some(sink.clone())).await.unwrap();
    assert_eq!(gone.deleted.len(), 1);
    let w = writes(&d);
    assert_eq!(w.len(), 1, "{:?}", calls(&w));
    assert_eq!(w[0].method, "DELETE");
    let st = status(&c, &pool).await.unwrap();
    assert!(!st.deployed);
    let pre = destroy_preview(&c, &pool).await.unwrap();
    assert!(!pre.exists);
    // Destroying again deletes nothing.
    d.clear_requests();
    destroy(&c, &pool, None).await.unwrap();
    assert!(writes(&d).is_empty());
}

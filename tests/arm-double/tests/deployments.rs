//! Template deployments: dependsOn order and parallelism, deployment operations, outputs,
//! validate, what-if, the real quickstart template, cascade delete.

mod common;

use common::*;
use serde_json::{Value, json};

fn ts(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[tokio::test]
async fn small_template_deploys_in_dependency_order_with_parallel_branches() {
    let (d, c) = start().await;
    c.create_rg("pool-rg").await;
    // slow enough to observe Accepted and Running on a loaded machine
    d.update_settings(|s| {
        s.latency.deployment_start_secs = 200.0;
        s.latency
            .provisioning
            .insert("Microsoft.Compute/virtualMachineScaleSets".into(), 400.0);
    })
    .unwrap();
    let dep_path = format!(
        "{}/providers/Microsoft.Resources/deployments/pool",
        c.rg_path("pool-rg")
    );
    let r = c
        .put(
            &dep_path,
            DEPLOY_API,
            json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": pool_parameters("team", 3)}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Accepted");
    assert_eq!(r.body["type"], "Microsoft.Resources/deployments");
    let status_url = r.header("azure-asyncoperation").unwrap();
    assert!(status_url.starts_with(&d.management_url), "{status_url}");
    assert!(status_url.contains("/operationStatuses/"));

    // a second PUT while it runs is refused
    let again = c
        .put(
            &dep_path,
            DEPLOY_API,
            json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": pool_parameters("team", 3)}}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["error"]["code"], "DeploymentActive");

    // the status goes through Running to Succeeded
    let mut seen = Vec::new();
    loop {
        let s = c.send("GET", &status_url, None, None, &[]).await;
        assert_eq!(s.status, 200);
        let st = s.body["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        if st == "Succeeded" || st == "Failed" {
            break;
        }
        Client::wait(&s).await;
    }
    assert_eq!(
        seen.last().map(String::as_str),
        Some("Succeeded"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|s| s == "Running"), "{seen:?}");

    let dep = c.get(&dep_path, DEPLOY_API).await.body;
    let p = &dep["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["mode"], "Incremental");
    // secure parameters are never echoed
    assert_eq!(
        p["parameters"]["adminPassword"],
        json!({"type": "SecureString"})
    );
    assert_eq!(p["parameters"]["capacity"]["value"], 3);
    assert!(!dep.to_string().contains("S3cret-Passw0rd!"));
    assert_eq!(
        p["outputs"]["fqdn"]["value"],
        "team.westeurope.cloudapp.arm-double.test"
    );
    assert_eq!(p["outputs"]["storageKeyLength"]["value"], 88);
    assert_eq!(p["outputs"]["storageKeyLength"]["type"], "Int");
    assert!(p["duration"].as_str().unwrap().starts_with("PT"));
    assert_eq!(p["outputResources"].as_array().unwrap().len(), 6);

    // operations: one per resource with state and timestamps, in dependency order
    let ops = c
        .get(&format!("{dep_path}/operations"), DEPLOY_API)
        .await
        .body;
    let ops = ops["value"].as_array().unwrap();
    let by_type = |t: &str| {
        ops.iter()
            .find(|o| o["properties"]["targetResource"]["resourceType"] == t)
            .unwrap_or_else(|| panic!("no operation for {t}"))
    };
    let resource_ops: Vec<&Value> = ops
        .iter()
        .filter(|o| o["properties"]["targetResource"].is_object())
        .collect();
    assert_eq!(resource_ops.len(), 6);
    for o in &resource_ops {
        assert_eq!(o["properties"]["provisioningState"], "Succeeded");
        assert_eq!(o["properties"]["provisioningOperation"], "Create");
        assert_eq!(o["properties"]["statusCode"], "Created");
        assert!(o["operationId"].as_str().unwrap().len() == 16);
    }
    let tl = d.deployment_timeline("pool-rg", "pool").unwrap();
    let res = tl["resources"].as_array().unwrap();
    let window = |t: &str| {
        let r = res.iter().find(|r| r["type"] == t).unwrap();
        (
            r["start_secs"].as_f64().unwrap(),
            r["end_secs"].as_f64().unwrap(),
        )
    };
    let vnet = window("Microsoft.Network/virtualNetworks");
    let pip = window("Microsoft.Network/publicIPAddresses");
    let lb = window("Microsoft.Network/loadBalancers");
    let st = window("Microsoft.Storage/storageAccounts");
    let vmss = window("Microsoft.Compute/virtualMachineScaleSets");
    let auto = window("Microsoft.Insights/autoscaleSettings");
    // independent resources start together
    assert_eq!(vnet.0, pip.0);
    assert_eq!(vnet.0, st.0);
    // dependants start exactly when their last dependency ends
    assert_eq!(lb.0, pip.1);
    assert_eq!(vmss.0, vnet.1.max(lb.1));
    assert_eq!(auto.0, vmss.1);
    let lat = d.settings().latency;
    assert!(
        (vmss.1 - vmss.0 - lat.provisioning_for("Microsoft.Compute/virtualMachineScaleSets")).abs()
            < 1e-6
    );
    // the critical path the double reports is what happened
    let critical = tl["critical_path_secs"].as_f64().unwrap();
    let finished = tl["finished_secs"].as_f64().unwrap() - tl["created_secs"].as_f64().unwrap();
    assert!(
        (critical - finished).abs() < 1e-6,
        "{critical} vs {finished}"
    );
    // the timestamps the client sees agree with the order
    let lb_ts = ts(&by_type("Microsoft.Network/loadBalancers")["properties"]["timestamp"]);
    let vmss_ts =
        ts(&by_type("Microsoft.Compute/virtualMachineScaleSets")["properties"]["timestamp"]);
    assert!(lb_ts < vmss_ts);
    assert!(
        ops.iter()
            .any(|o| o["properties"]["provisioningOperation"] == "EvaluateDeploymentOutput")
    );

    // the resources exist with their properties
    let vmss_path = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/team-vmss",
        c.rg_path("pool-rg")
    );
    let v = c.get(&vmss_path, COMPUTE_API).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["sku"]["capacity"], 3);
    assert_eq!(v.body["properties"]["provisioningState"], "Succeeded");
    // reference() inside properties was evaluated when the scale set was provisioned
    let hint = &v.body["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]
        [0]["properties"]["ipConfigurations"][0]["properties"]["publicIpHint"];
    assert!(hint.as_str().unwrap().starts_with("203.0.113."), "{hint}");
    let vms = c
        .get(
            &format!("{vmss_path}/virtualMachines?$expand=instanceView"),
            COMPUTE_API,
        )
        .await;
    assert_eq!(vms.body["value"].as_array().unwrap().len(), 3);
    let auto = c
        .get(
            &format!(
                "{}/providers/Microsoft.Insights/autoscalesettings/team-vmss-autoscale",
                c.rg_path("pool-rg")
            ),
            INSIGHTS_API,
        )
        .await;
    assert_eq!(auto.status, 200);
    assert_eq!(auto.body["type"], "Microsoft.Insights/autoscaleSettings");
    assert_eq!(
        auto.body["properties"]["profiles"][0]["capacity"]["default"],
        "3"
    );
    assert!(auto.body["properties"].get("provisioningState").is_none());

    // list of deployments and resources in the group
    let list = c
        .get(
            &format!(
                "{}/providers/Microsoft.Resources/deployments",
                c.rg_path("pool-rg")
            ),
            DEPLOY_API,
        )
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let all = c
        .get(&format!("{}/resources", c.rg_path("pool-rg")), RG_API)
        .await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn conditions_and_resource_failures_end_the_deployment_failed() {
    let (d, c) = start().await;
    c.create_rg("rg").await;
    // the storage account is conditioned out
    let mut params = pool_parameters("nost", 1);
    params["withStorage"] = json!({"value": false});
    let dep = c.deploy("rg", "a", pool_template(), params).await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded", "{dep}");
    assert!(
        dep["properties"]["outputs"]
            .get("storageKeyLength")
            .is_none()
    );
    let all = c
        .get(&format!("{}/resources", c.rg_path("rg")), RG_API)
        .await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 5);

    // a resource provisioning fails: dependants never start, the deployment fails
    d.add_fault(serde_json::from_value(json!({
        "method": "PUT",
        "path": "*/loadBalancers/bad-lb",
        "action": {"kind": "operation_failed", "code": "PublicIPAddressInUse", "message": "The address is in use."}
    })).unwrap())
    .unwrap();
    let dep = c
        .deploy("rg", "b", pool_template(), pool_parameters("bad", 1))
        .await;
    let p = &dep["properties"];
    assert_eq!(p["provisioningState"], "Failed");
    assert_eq!(p["error"]["code"], "DeploymentFailed");
    assert_eq!(p["error"]["details"][0]["code"], "PublicIPAddressInUse");
    let ops = c
        .get(
            &format!(
                "{}/providers/Microsoft.Resources/deployments/b/operations",
                c.rg_path("rg")
            ),
            DEPLOY_API,
        )
        .await
        .body;
    let ops = ops["value"].as_array().unwrap();
    let lb = ops
        .iter()
        .find(|o| {
            o["properties"]["targetResource"]["resourceType"] == "Microsoft.Network/loadBalancers"
        })
        .unwrap();
    assert_eq!(lb["properties"]["provisioningState"], "Failed");
    assert_eq!(
        lb["properties"]["statusMessage"]["error"]["code"],
        "PublicIPAddressInUse"
    );
    assert!(
        !ops.iter()
            .any(|o| o["properties"]["targetResource"]["resourceType"]
                == "Microsoft.Compute/virtualMachineScaleSets"),
        "the scale set depends on the failed load balancer and must not start"
    );
    let lb_res = c
        .get(
            &format!(
                "{}/providers/Microsoft.Network/loadBalancers/bad-lb",
                c.rg_path("rg")
            ),
            NETWORK_API,
        )
        .await;
    assert_eq!(lb_res.body["properties"]["provisioningState"], "Failed");

    // rerunning (fault consumed) converges and updates what exists
    let dep = c
        .deploy("rg", "b", pool_template(), pool_parameters("bad", 1))
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded");
    let ops = c
        .get(
            &format!(
                "{}/providers/Microsoft.Resources/deployments/b/operations",
                c.rg_path("rg")
            ),
            DEPLOY_API,
        )
        .await
        .body;
    let lb = ops["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| {
            o["properties"]["targetResource"]["resourceType"] == "Microsoft.Network/loadBalancers"
        })
        .unwrap()
        .clone();
    assert_eq!(
        lb["properties"]["statusCode"], "OK",
        "an existing resource is updated, not created"
    );
}

#[tokio::test]
async fn deployment_level_faults_and_cancel() {
    let (d, c) = start().await;
    c.create_rg("rg").await;
    d.add_fault(serde_json::from_value(json!({
        "method": "PUT", "path": "*/deployments/cancelled", "action": {"kind": "operation_canceled"}
    })).unwrap())
    .unwrap();
    let dep = c
        .deploy(
            "rg",
            "cancelled",
            pool_template(),
            pool_parameters("cxpool", 1),
        )
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Canceled");
    assert_eq!(dep["properties"]["error"]["code"], "DeploymentCanceled");
    // only the first wave ran: the scale set never started
    let vmss = c
        .get(
            &format!(
                "{}/providers/Microsoft.Compute/virtualMachineScaleSets/cxpool-vmss",
                c.rg_path("rg")
            ),
            COMPUTE_API,
        )
        .await;
    assert_eq!(vmss.status, 404);

    d.add_fault(serde_json::from_value(json!({
        "method": "PUT", "path": "*/deployments/broken", "action": {"kind": "operation_failed", "code": "Conflict", "message": "boom"}
    })).unwrap())
    .unwrap();
    let dep = c
        .deploy(
            "rg",
            "broken",
            pool_template(),
            pool_parameters("bxpool", 1),
        )
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Failed");
    assert_eq!(dep["properties"]["error"]["details"][0]["code"], "Conflict");

    // explicit cancel of a running deployment
    d.update_settings(|s| s.latency.deployment_start_secs = 500.0)
        .unwrap();
    let path = format!(
        "{}/providers/Microsoft.Resources/deployments/slow",
        c.rg_path("rg")
    );
    let r = c
        .put(&path, DEPLOY_API, json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": pool_parameters("slpool", 1)}}))
        .await;
    assert_eq!(r.status, 201);
    let cancel = c
        .send(
            "POST",
            &format!("{path}/cancel"),
            Some(DEPLOY_API),
            None,
            &[],
        )
        .await;
    assert_eq!(cancel.status, 204);
    let st = c
        .poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(st["status"], "Canceled");
    assert_eq!(st["error"]["code"], "DeploymentCanceled");
    let again = c
        .send(
            "POST",
            &format!("{path}/cancel"),
            Some(DEPLOY_API),
            None,
            &[],
        )
        .await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn quickstart_vmss_ubuntu_autoscale_template_deploys() {
    let (d, c) = start().await;
    c.create_rg("qs").await;
    let template =
        read_fixture("quickstarts/microsoft.compute/vmss-ubuntu-autoscale/azuredeploy.json");
    let dep = c
        .deploy(
            "qs",
            "quickstart",
            template,
            json!({
                "vmssName": {"value": "dsvmpool"},
                "instanceCount": {"value": 5},
                "adminUsername": {"value": "azureuser"},
                "adminPasswordOrKey": {"value": "ssh-ed25519 AAAAC3Nza test"}
            }),
        )
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded", "{dep}");
    let deps = dep["properties"]["dependencies"].as_array().unwrap();
    let vmss_dep = deps
        .iter()
        .find(|x| x["resourceType"] == "Microsoft.Compute/virtualMachineScaleSets")
        .unwrap();
    assert_eq!(vmss_dep["dependsOn"].as_array().unwrap().len(), 2);

    let tl = d.deployment_timeline("qs", "quickstart").unwrap();
    let res = tl["resources"].as_array().unwrap();
    let get = |t: &str| {
        res.iter()
            .find(|r| r["type"].as_str().unwrap().eq_ignore_ascii_case(t))
            .unwrap()
    };
    let vmss = get("Microsoft.Compute/virtualMachineScaleSets");
    let lb = get("Microsoft.Network/loadBalancers");
    let pip = get("Microsoft.Network/publicIPAddresses");
    let vnet = get("Microsoft.Network/virtualNetworks");
    let auto = get("Microsoft.Insights/autoscaleSettings");
    assert!(lb["start_secs"].as_f64() >= pip["end_secs"].as_f64());
    assert!(vmss["start_secs"].as_f64() >= lb["end_secs"].as_f64());
    assert!(vmss["start_secs"].as_f64() >= vnet["end_secs"].as_f64());
    assert!(auto["start_secs"].as_f64() >= vmss["end_secs"].as_f64());

    let name = vmss["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert!(name.starts_with("dsvmpool"), "{name}");
    let vms = c
        .get(
            &format!("{}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}/virtualMachines?$expand=instanceView", c.rg_path("qs")),
            COMPUTE_API,
        )
        .await;
    let vms = vms.body["value"].as_array().unwrap().clone();
    assert_eq!(vms.len(), 5);
    for vm in &vms {
        let statuses = vm["properties"]["instanceView"]["statuses"]
            .as_array()
            .unwrap();
        assert!(statuses.iter().any(|s| s["code"] == "PowerState/running"));
        assert!(
            vm["properties"]["osProfile"]["computerName"]
                .as_str()
                .unwrap()
                .starts_with(&name)
        );
    }
    // the autoscale setting targets the scale set, built with subscription() and resourceGroup()
    let auto = c
        .get(
            &format!(
                "{}/providers/Microsoft.Insights/autoscaleSettings/autoscalewad",
                c.rg_path("qs")
            ),
            INSIGHTS_API,
        )
        .await;
    assert_eq!(auto.status, 200);
    let target = auto.body["properties"]["targetResourceUri"]
        .as_str()
        .unwrap();
    assert!(
        target.ends_with(&format!("/virtualMachineScaleSets/{name}")),
        "{target}"
    );
    assert!(target.contains(&d.subscription_id));
}

#[tokio::test]
async fn validate_answers_in_the_official_shapes() {
    let (_d, c) = start().await;
    c.create_rg("v").await;
    let path = format!(
        "{}/providers/Microsoft.Resources/deployments/check/validate",
        c.rg_path("v")
    );
    let ok = c
        .send(
            "POST",
            &path,
            Some(DEPLOY_API),
            Some(json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": pool_parameters("okpool", 2)}})),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let example = read_fixture(
        "api-examples/specification/resources/resource-manager/Microsoft.Resources/deployments/examples/2025-04-01/PostDeploymentValidateOnResourceGroup.json",
    );
    let ex = &example["responses"]["200"]["body"];
    for k in ["id", "name", "type"] {
        assert!(ok.body.get(k).is_some(), "missing {k}");
    }
    for k in [
        "correlationId",
        "dependencies",
        "duration",
        "mode",
        "parameters",
        "providers",
        "provisioningState",
        "templateHash",
        "timestamp",
        "validatedResources",
    ] {
        assert!(ex["properties"].get(k).is_some(), "the example has {k}");
        assert!(
            ok.body["properties"].get(k).is_some(),
            "missing properties.{k}"
        );
    }
    assert_eq!(
        ok.body["properties"]["validatedResources"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // preflight failure: the example's 400 shape
    let mut bad = pool_template();
    bad["resources"][3]["name"] = json!("a");
    let r = c
        .send(
            "POST",
            &path,
            Some(DEPLOY_API),
            Some(json!({"properties": {"mode": "Incremental", "template": bad, "parameters": pool_parameters("okpool", 2)}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    let ex400 = &example["responses"]["400"]["body"]["error"];
    assert_eq!(r.body["error"]["code"], ex400["code"]);
    assert_eq!(
        r.body["error"]["details"][0]["code"],
        ex400["details"][0]["code"]
    );
    assert_eq!(
        r.body["error"]["details"][0]["details"][0]["code"],
        ex400["details"][0]["details"][0]["code"]
    );
    assert_eq!(r.body["error"]["details"][0]["details"][0]["target"], "a");

    // template errors
    let r = c
        .send("POST", &path, Some(DEPLOY_API), Some(json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": {}}})), &[])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "InvalidTemplate");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'prefix'")
    );
    let r = c
        .send(
            "POST",
            &path,
            Some(DEPLOY_API),
            Some(json!({"properties": {"mode": "Sideways", "template": pool_template()}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = c
        .send("POST", &path, Some(DEPLOY_API), Some(json!({"properties": {"mode": "Incremental", "templateLink": {"uri": "https://example.com/t.json"}}})), &[])
        .await;
    assert_eq!(r.status, 400);
    // the same validation guards the PUT
    let r = c
        .put(
            &format!("{}/providers/Microsoft.Resources/deployments/x", c.rg_path("v")),
            DEPLOY_API,
            json!({"properties": {"mode": "Incremental", "template": pool_template(), "parameters": pool_parameters("UPPER CASE", 2)}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["error"]["details"][0]["details"][0]["code"],
        "InvalidDomainNameLabel"
    );
}

#[tokio::test]
async fn what_if_reports_create_nochange_modify_and_delete() {
    let (_d, c) = start().await;
    c.create_rg("w").await;
    let what_if = |mode: &str, capacity: i64| json!({"properties": {"mode": mode, "template": pool_template(), "parameters": pool_parameters("wipool", capacity)}});
    let path = format!(
        "{}/providers/Microsoft.Resources/deployments/wi/whatIf",
        c.rg_path("w")
    );
    let run = |body: Value| {
        let c = &c;
        let path = path.clone();
        async move {
            let r = c
                .send("POST", &path, Some(DEPLOY_API), Some(body), &[])
                .await;
            assert_eq!(r.status, 202, "{}", r.body);
            assert!(r.header("retry-after").is_some());
            let loc = r.header("location").unwrap();
            let done = c.poll_location(&loc).await;
            assert_eq!(done.status, 200);
            done.body
        }
    };
    let first = run(what_if("Incremental", 2)).await;
    assert_eq!(first["status"], "Succeeded");
    let changes = first["properties"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 6);
    assert!(
        changes
            .iter()
            .all(|ch| ch["changeType"] == "Create" && ch["after"].is_object())
    );

    let dep = c
        .deploy("w", "wi", pool_template(), pool_parameters("wipool", 2))
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded");
    let same = run(what_if("Incremental", 2)).await;
    for ch in same["properties"]["changes"].as_array().unwrap() {
        assert_eq!(ch["changeType"], "NoChange", "{ch}");
    }

    // scale outside the template: what-if shows the drift on sku.capacity
    let vmss = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/wipool-vmss",
        c.rg_path("w")
    );
    let r = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 4}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    let drift = run(what_if("Incremental", 2)).await;
    let ch = drift["properties"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resourceId"].as_str().unwrap().ends_with("/wipool-vmss"))
        .unwrap()
        .clone();
    assert_eq!(ch["changeType"], "Modify");
    assert_eq!(ch["delta"][0]["path"], "sku.capacity");
    assert_eq!(ch["delta"][0]["propertyChangeType"], "Modify");
    assert_eq!(ch["delta"][0]["before"], 4);
    assert_eq!(ch["delta"][0]["after"], 2);

    // a resource outside the template: ignored in Incremental, deleted in Complete
    c.put(
        &format!(
            "{}/providers/Microsoft.Network/networkSecurityGroups/extra",
            c.rg_path("w")
        ),
        NETWORK_API,
        json!({"location": "westeurope", "properties": {}}),
    )
    .await;
    let inc = run(what_if("Incremental", 4)).await;
    let extra = |v: &Value| {
        v["properties"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["resourceId"].as_str().unwrap().ends_with("/extra"))
            .unwrap()["changeType"]
            .clone()
    };
    assert_eq!(extra(&inc), "Ignore");
    let complete = run(what_if("Complete", 4)).await;
    assert_eq!(extra(&complete), "Delete");

    // the official example's shape
    let example = read_fixture(
        "api-examples/specification/resources/resource-manager/Microsoft.Resources/deployments/examples/2025-04-01/PostDeploymentWhatIfOnResourceGroup.json",
    );
    let ex = &example["responses"]["200"]["body"];
    let ex_change = &ex["properties"]["changes"][0];
    let ours = same["properties"]["changes"][0].clone();
    for k in ["after", "before", "changeType", "resourceId"] {
        assert!(ex_change.get(k).is_some());
        assert!(ours.get(k).is_some(), "missing {k} in {ours}");
    }
    for k in ["name", "type", "apiVersion", "id", "location"] {
        assert!(ex_change["after"].get(k).is_some());
        assert!(ours["after"].get(k).is_some(), "missing after.{k}");
    }
    let ex_delta = &ex_change["delta"][0];
    for k in ["path", "after", "propertyChangeType"] {
        assert!(ex_delta.get(k).is_some());
        assert!(ch["delta"][0].get(k).is_some());
    }
}

#[tokio::test]
async fn resource_group_delete_cascades_asynchronously() {
    let (d, c) = start().await;
    c.create_rg("gone").await;
    let dep = c
        .deploy("gone", "d", pool_template(), pool_parameters("gnpool", 2))
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded");
    d.update_settings(|s| s.latency.resource_group_delete_secs = 1000.0)
        .unwrap();
    let r = c
        .send("DELETE", &c.rg_path("gone"), Some(RG_API), None, &[])
        .await;
    assert_eq!(r.status, 202);
    assert!(r.header("retry-after").is_some());
    let loc = r.header("location").unwrap();
    assert!(loc.contains("/operationresults/"), "{loc}");
    // while deleting, the group says so and refuses new work
    let g = c.get(&c.rg_path("gone"), RG_API).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Deleting");
    let put = c
        .put(
            &c.rg_path("gone"),
            RG_API,
            json!({"location": "westeurope"}),
        )
        .await;
    assert_eq!(put.status, 409);
    assert_eq!(put.body["error"]["code"], "ResourceGroupBeingDeleted");
    let vmss = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/gnpool-vmss",
        c.rg_path("gone")
    );
    assert_eq!(
        c.get(&vmss, COMPUTE_API).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    // a second delete joins the same operation
    let again = c
        .send("DELETE", &c.rg_path("gone"), Some(RG_API), None, &[])
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("location").unwrap(), loc);

    let done = c.poll_location(&loc).await;
    assert_eq!(done.status, 200);
    assert_eq!(c.get(&c.rg_path("gone"), RG_API).await.status, 404);
    let head = c
        .send("HEAD", &c.rg_path("gone"), Some(RG_API), None, &[])
        .await;
    assert_eq!(head.status, 404);
    let v = c.get(&vmss, COMPUTE_API).await;
    assert_eq!(v.status, 404);
    assert_eq!(v.body["error"]["code"], "ResourceGroupNotFound");
    // recreating the group finds it empty
    c.create_rg("gone").await;
    let all = c
        .get(&format!("{}/resources", c.rg_path("gone")), RG_API)
        .await;
    assert!(all.body["value"].as_array().unwrap().is_empty());
    let deps = c
        .get(
            &format!(
                "{}/providers/Microsoft.Resources/deployments/d",
                c.rg_path("gone")
            ),
            DEPLOY_API,
        )
        .await;
    assert_eq!(deps.status, 404);
    assert_eq!(deps.body["error"]["code"], "DeploymentNotFound");
    let missing = c
        .send("DELETE", &c.rg_path("never"), Some(RG_API), None, &[])
        .await;
    assert_eq!(missing.status, 404);
}

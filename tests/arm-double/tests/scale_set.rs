//! Scale set operations (capacity with ETags, power actions, instance views, instance
//! protection), autoscale settings, storage keys, generic resources and their async deletes.

mod common;

use common::*;
use dsvmpool_arm_double::PatchResponse;
use serde_json::{Value, json};

async fn deployed_pool(capacity: i64) -> (dsvmpool_arm_double::Running, Client, String) {
    let (d, c) = start().await;
    c.create_rg("rg").await;
    let dep = c
        .deploy(
            "rg",
            "pool",
            pool_template(),
            pool_parameters("team", capacity),
        )
        .await;
    assert_eq!(dep["properties"]["provisioningState"], "Succeeded", "{dep}");
    let vmss = format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/team-vmss",
        c.rg_path("rg")
    );
    (d, c, vmss)
}

async fn instances(c: &Client, vmss: &str) -> Vec<Value> {
    let r = c
        .get(
            &format!("{vmss}/virtualMachines?$expand=instanceView"),
            COMPUTE_API,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

fn power(vm: &Value) -> String {
    vm["properties"]["instanceView"]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| {
            s["code"]
                .as_str()
                .and_then(|c| c.strip_prefix("PowerState/"))
        })
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn capacity_update_is_async_and_guarded_by_etag() {
    let (d, c, vmss) = deployed_pool(2).await;
    d.update_settings(|s| s.latency.vmss_scale_secs = 1000.0)
        .unwrap();
    let g = c.get(&vmss, COMPUTE_API).await;
    assert_eq!(g.status, 200);
    let etag = g.header("etag").unwrap();
    assert_eq!(g.body["etag"], Value::String(etag.clone()));
    // write-only secrets never come back
    assert!(
        g.body["properties"]["virtualMachineProfile"]["osProfile"]
            .get("adminPassword")
            .is_none()
    );
    assert!(!g.body.to_string().contains("S3cret-Passw0rd!"));

    // a stale ETag is refused
    let stale = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 5}})),
            &[("If-Match", "\"999\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["error"]["code"], "PreconditionFailed");
    assert!(stale.header("x-ms-request-id").is_some());

    let r = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 5}})),
            &[("If-Match", etag.as_str())],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(r.header("location").is_some());
    assert!(r.header("retry-after").is_some());
    assert!(
        r.header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );
    let new_etag = r.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    // the model shows the target at once, provisioning is not terminal, instances are coming
    let during = c.get(&vmss, COMPUTE_API).await;
    assert_eq!(during.body["sku"]["capacity"], 5);
    assert_eq!(during.body["properties"]["provisioningState"], "Updating");
    let vms = instances(&c, &vmss).await;
    assert_eq!(vms.len(), 5);
    assert_eq!(
        vms.iter()
            .filter(|v| v["properties"]["provisioningState"] == "Creating")
            .count(),
        3
    );
    let status = c
        .poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(status["status"], "Succeeded");
    assert!(status["startTime"].is_string() && status["endTime"].is_string());
    // the Location URL now gives the final resource
    let fin = c.poll_location(&r.header("location").unwrap()).await;
    assert_eq!(fin.status, 200);
    assert_eq!(fin.body["properties"]["provisioningState"], "Succeeded");
    let vms = instances(&c, &vmss).await;
    assert_eq!(vms.len(), 5);
    assert!(vms.iter().all(|v| power(v) == "running"));

    // scale in removes the newest instances
    let r = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 1}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    c.poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    let vms = instances(&c, &vmss).await;
    assert_eq!(vms.len(), 1);
    assert_eq!(vms[0]["instanceId"], "0");

    // out-of-range capacity
    let bad = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 1001}})),
            &[],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["code"], "InvalidParameter");
    assert_eq!(bad.body["error"]["target"], "sku.capacity");
}

#[tokio::test]
async fn concurrent_capacity_updates_with_the_same_etag_cannot_both_win() {
    let (_d, c, vmss) = deployed_pool(1).await;
    let etag = c.get(&vmss, COMPUTE_API).await.header("etag").unwrap();
    let h = [("If-Match", etag.as_str())];
    let a = c.send(
        "PATCH",
        &vmss,
        Some(COMPUTE_API),
        Some(json!({"sku": {"capacity": 3}})),
        &h,
    );
    let b = c.send(
        "PATCH",
        &vmss,
        Some(COMPUTE_API),
        Some(json!({"sku": {"capacity": 4}})),
        &h,
    );
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [202, 412]);
    let winner = if a.status == 202 { 3 } else { 4 };
    assert_eq!(
        c.get(&vmss, COMPUTE_API).await.body["sku"]["capacity"],
        winner
    );
}

#[tokio::test]
async fn patch_can_answer_200_with_the_updating_body() {
    let (d, c, vmss) = deployed_pool(1).await;
    d.update_settings(|s| s.behaviour.patch_response = PatchResponse::Ok)
        .unwrap();
    let r = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 2}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    assert!(r.header("azure-asyncoperation").is_some());
    assert!(r.header("location").is_none());
    let s = c
        .poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(s["status"], "Succeeded");
}

#[tokio::test]
async fn deallocate_and_start_move_power_states_and_respect_protection() {
    let (d, c, vmss) = deployed_pool(3).await;
    d.update_settings(|s| s.latency.vmss_deallocate_secs = 1000.0)
        .unwrap();
    // protect instance 1 from scale set actions
    let r = c
        .put(
            &format!("{vmss}/virtualMachines/1"),
            COMPUTE_API,
            json!({"properties": {"protectionPolicy": {"protectFromScaleIn": true, "protectFromScaleSetActions": true}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Updating");
    c.poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    let vm1 = c
        .get(&format!("{vmss}/virtualMachines/1"), COMPUTE_API)
        .await;
    assert_eq!(
        vm1.body["properties"]["protectionPolicy"]["protectFromScaleSetActions"],
        true
    );
    assert_eq!(vm1.body["properties"]["provisioningState"], "Succeeded");
    // PATCH on the instance works too
    let r = c
        .send(
            "PATCH",
            &format!("{vmss}/virtualMachines/2"),
            Some(COMPUTE_API),
            Some(json!({"properties": {"protectionPolicy": {"protectFromScaleIn": true}}})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    c.poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    let bad = c
        .put(
            &format!("{vmss}/virtualMachines/2"),
            COMPUTE_API,
            json!({"properties": {"protectionPolicy": {"protectFromScaleIn": "yes"}}}),
        )
        .await;
    assert_eq!(bad.status, 400);
    let missing = c
        .get(&format!("{vmss}/virtualMachines/77"), COMPUTE_API)
        .await;
    assert_eq!(missing.status, 404);

    let r = c
        .send(
            "POST",
            &format!("{vmss}/deallocate"),
            Some(COMPUTE_API),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.header("location").is_some() && r.header("azure-asyncoperation").is_some());
    let vms = instances(&c, &vmss).await;
    let p: Vec<String> = vms.iter().map(power).collect();
    assert_eq!(p, ["deallocating", "running", "deallocating"]);
    let loc = c.poll_location(&r.header("location").unwrap()).await;
    assert_eq!(loc.status, 200);
    let p: Vec<String> = instances(&c, &vmss).await.iter().map(power).collect();
    assert_eq!(p, ["deallocated", "running", "deallocated"]);
    let single = c
        .get(
            &format!("{vmss}/virtualMachines/0/instanceView"),
            COMPUTE_API,
        )
        .await;
    assert_eq!(single.body["statuses"][1]["code"], "PowerState/deallocated");

    // start only instance 0
    let r = c
        .send(
            "POST",
            &format!("{vmss}/start"),
            Some(COMPUTE_API),
            Some(json!({"instanceIds": ["0"]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    c.poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    let p: Vec<String> = instances(&c, &vmss).await.iter().map(power).collect();
    assert_eq!(p, ["running", "running", "deallocated"]);
    let r = c
        .send(
            "POST",
            &format!("{vmss}/powerOff"),
            Some(COMPUTE_API),
            Some(json!({"instanceIds": ["9"]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);

    // manual scale-in skips the instance protected from scale set actions
    let r = c
        .send(
            "PATCH",
            &vmss,
            Some(COMPUTE_API),
            Some(json!({"sku": {"capacity": 1}})),
            &[],
        )
        .await;
    c.poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    let ids: Vec<String> = instances(&c, &vmss)
        .await
        .iter()
        .map(|v| v["instanceId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["1"]);
    let summary = c.get(&format!("{vmss}/instanceView"), COMPUTE_API).await;
    assert_eq!(
        summary.body["virtualMachine"]["statusesSummary"][0]["count"],
        1
    );
}

#[tokio::test]
async fn autoscale_settings_storage_keys_and_generic_resources() {
    let (d, c, _vmss) = deployed_pool(1).await;
    d.update_settings(|s| {
        s.latency
            .provisioning
            .insert("Microsoft.Storage/storageAccounts".into(), 1000.0);
        s.latency.delete_default_secs = 1000.0;
    })
    .unwrap();
    let example = read_fixture(
        "api-examples/specification/monitor/resource-manager/Microsoft.Insights/stable/2022-10-01/examples/createOrUpdateAutoscaleSetting.json",
    );
    let mut body = example["parameters"]["parameters"].clone();
    body["properties"]["targetResourceUri"] = json!(format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/team-vmss",
        c.rg_path("rg")
    ));
    let path = format!(
        "{}/providers/Microsoft.Insights/autoscalesettings/MySetting",
        c.rg_path("rg")
    );
    let r = c.put(&path, INSIGHTS_API, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.header("azure-asyncoperation").is_none(),
        "autoscale PUT is synchronous"
    );
    let again = c.put(&path, INSIGHTS_API, body.clone()).await;
    assert_eq!(again.status, 200);
    let g = c.get(&path, INSIGHTS_API).await;
    let ex_get = read_fixture(
        "api-examples/specification/monitor/resource-manager/Microsoft.Insights/stable/2022-10-01/examples/getAutoscaleSetting.json",
    );
    let ex = &ex_get["responses"]["200"]["body"];
    for k in ex.as_object().unwrap().keys() {
        assert!(g.body.get(k).is_some(), "missing {k}");
    }
    for k in ["profiles", "enabled", "targetResourceUri", "notifications"] {
        assert!(
            g.body["properties"].get(k).is_some(),
            "missing properties.{k}"
        );
    }
    assert_eq!(g.body["type"], ex["type"]);
    let mut bad = body.clone();
    bad["properties"]["profiles"][0]["capacity"] =
        json!({"minimum": "5", "maximum": "2", "default": "3"});
    let r = c.put(&path, INSIGHTS_API, bad).await;
    assert_eq!(r.status, 400);
    let old_api = c.put(&path, "2015-04-01", body.clone()).await;
    assert_eq!(old_api.status, 200);
    let wrong_api = c.put(&path, "2099-01-01", body).await;
    assert_eq!(wrong_api.status, 400);
    assert_eq!(wrong_api.body["error"]["code"], "NoRegisteredProviderFound");

    // storage keys, in the official example's shape
    let all = c
        .get(&format!("{}/resources", c.rg_path("rg")), RG_API)
        .await;
    let storage_id = all.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Microsoft.Storage/storageAccounts")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let keys = c
        .send(
            "POST",
            &format!("{storage_id}/listKeys"),
            Some(STORAGE_API),
            None,
            &[],
        )
        .await;
    assert_eq!(keys.status, 200);
    let ex_keys = read_fixture(
        "api-examples/specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/StorageAccountListKeys.json",
    );
    let ex_keys = &ex_keys["responses"]["200"]["body"]["keys"];
    assert_eq!(
        keys.body["keys"].as_array().unwrap().len(),
        ex_keys.as_array().unwrap().len()
    );
    for (ours, theirs) in keys.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ex_keys.as_array().unwrap())
    {
        assert_eq!(ours["keyName"], theirs["keyName"]);
        assert_eq!(ours["permissions"], theirs["permissions"]);
        assert_eq!(ours["value"].as_str().unwrap().len(), 88);
    }

    // a storage account PUT is 202 + Location, invisible until created
    let sa = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/newacct42",
        c.rg_path("rg")
    );
    let r = c
        .put(
            &sa,
            STORAGE_API,
            json!({"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(c.get(&sa, STORAGE_API).await.status, 404);
    let fin = c.poll_location(&r.header("location").unwrap()).await;
    assert_eq!(fin.status, 200);
    assert_eq!(fin.body["properties"]["provisioningState"], "Succeeded");
    // file share under it (sync), then parent checks
    let share = format!("{sa}/fileServices/default/shares/notebooks");
    assert_eq!(
        c.put(
            &format!("{sa}/fileServices/default"),
            STORAGE_API,
            json!({"properties": {}})
        )
        .await
        .status,
        201
    );
    let sh = c
        .put(
            &share,
            STORAGE_API,
            json!({"properties": {"shareQuota": 100, "enabledProtocols": "SMB"}}),
        )
        .await;
    assert_eq!(sh.status, 201);
    let ex_share = read_fixture(
        "api-examples/specification/storage/resource-manager/Microsoft.Storage/stable/2023-05-01/examples/FileSharesPut.json",
    );
    assert_eq!(
        sh.body["type"],
        ex_share["responses"]["201"]["body"]["type"]
    );
    assert_eq!(sh.body["name"], "notebooks");
    let orphan = c
        .put(
            &format!(
                "{}/providers/Microsoft.Storage/storageAccounts/nope/fileServices/default",
                c.rg_path("rg")
            ),
            STORAGE_API,
            json!({}),
        )
        .await;
    assert_eq!(orphan.status, 404);
    assert_eq!(orphan.body["error"]["code"], "ParentResourceNotFound");

    // generic PUT (provisioning state) and async DELETE cascading to children
    let nsg = format!(
        "{}/providers/Microsoft.Network/networkSecurityGroups/nsg1",
        c.rg_path("rg")
    );
    let r = c.put(&nsg, NETWORK_API, json!({"properties": {}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "LocationRequired");
    let r = c
        .put(
            &nsg,
            NETWORK_API,
            json!({"location": "westeurope", "properties": {"securityRules": []}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    let s = c
        .poll_status(&r.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(s["status"], "Succeeded");
    assert_eq!(
        c.get(&nsg, NETWORK_API).await.body["properties"]["provisioningState"],
        "Succeeded"
    );
    let r = c
        .put(
            &format!("{nsg}/securityRules/ssh"),
            NETWORK_API,
            json!({"properties": {"priority": 100}}),
        )
        .await;
    assert_eq!(r.status, 201);
    let del = c.send("DELETE", &nsg, Some(NETWORK_API), None, &[]).await;
    assert_eq!(del.status, 202);
    assert_eq!(
        c.get(&nsg, NETWORK_API).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    let fin = c.poll_location(&del.header("location").unwrap()).await;
    assert_eq!(fin.status, 204);
    assert_eq!(c.get(&nsg, NETWORK_API).await.status, 404);
    assert_eq!(
        c.get(&format!("{nsg}/securityRules/ssh"), NETWORK_API)
            .await
            .status,
        404
    );
    let again = c.send("DELETE", &nsg, Some(NETWORK_API), None, &[]).await;
    assert_eq!(again.status, 204);
    // synchronous delete
    assert_eq!(
        c.send("DELETE", &path, Some(INSIGHTS_API), None, &[])
            .await
            .status,
        200
    );
    assert_eq!(c.get(&path, INSIGHTS_API).await.status, 404);
}

#[tokio::test]
async fn scale_set_delete_is_async_and_removes_instances() {
    let (d, c, vmss) = deployed_pool(2).await;
    d.update_settings(|s| s.latency.delete_default_secs = 1000.0)
        .unwrap();
    let del = c
        .send(
            "DELETE",
            &vmss,
            Some(COMPUTE_API),
            None,
            &[("If-Match", "\"42\"")],
        )
        .await;
    assert_eq!(del.status, 412);
    let del = c.send("DELETE", &vmss, Some(COMPUTE_API), None, &[]).await;
    assert_eq!(del.status, 202);
    let vms = instances(&c, &vmss).await;
    assert!(
        vms.iter()
            .all(|v| v["properties"]["provisioningState"] == "Deleting")
    );
    let s = c
        .poll_status(&del.header("azure-asyncoperation").unwrap())
        .await;
    assert_eq!(s["status"], "Succeeded");
    assert_eq!(c.get(&vmss, COMPUTE_API).await.status, 404);
    assert_eq!(
        c.get(&format!("{vmss}/virtualMachines"), COMPUTE_API)
            .await
            .status,
        404
    );
}

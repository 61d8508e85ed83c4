//! Our template against the reference template (`../shared/fixtures/anchor/dsvm-vmss-cluster.json`):
//! every port, rule and capability it has is present in ours, and each numbered defect of
//! "What the reference gets wrong" (`../shared/docs/AZURE-FACTS.md`) is absent.

mod render_support;

use dsvmpool::Pool;
use dsvmpool::render::Artifacts;
use render_support::*;
use serde_json::Value;

fn reference() -> Value {
    let p = repo_root().join("../shared/fixtures/anchor/dsvm-vmss-cluster.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The quickstart: `examples/team.toml`, or the SMB starter until it exists.
fn team() -> Artifacts {
    let root = repo_root();
    let path = [
        root.join("examples/team.toml"),
        root.join("cli/src/starters/smb.toml"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap();
    let pool = Pool::load(&path).unwrap().validate().unwrap();
    render_ok("team", &pool)
}

fn inline(name: &str) -> Artifacts {
    let pools = all_pools();
    let (label, pool) = pools.iter().find(|(l, _)| l.ends_with(name)).unwrap();
    render_ok(label, pool)
}

fn resources<'a>(t: &'a Value, ty: &str) -> Vec<&'a Value> {
    t["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["type"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(ty))
        })
        .collect()
}

fn one<'a>(t: &'a Value, ty: &str) -> &'a Value {
    let r = resources(t, ty);
    assert_eq!(r.len(), 1, "one {ty}");
    r[0]
}

/// A file the user data writes on an instance (rendered under `instance/` for review).
fn instance_file<'a>(a: &'a Artifacts, path: &str) -> &'a str {
    let want = format!("{}{path}", dsvmpool::render::INSTANCE_DIR);
    &a.files
        .iter()
        .find(|f| f.path == want)
        .unwrap_or_else(|| panic!("no {want}"))
        .content
}

/// Every script the user data installs, one after the other.
fn script(a: &Artifacts) -> String {
    a.files
        .iter()
        .filter(|f| f.path.contains("/sbin/") || f.path.contains("/lib/dsvmpool/"))
        .map(|f| f.content.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_port_rule_and_capability_of_the_reference_is_present() {
    let r = reference();
    let a = team();
    let t = &a.template;
    for ty in [
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/publicIPAddresses",
        "Microsoft.Network/loadBalancers",
        "Microsoft.Compute/virtualMachineScaleSets",
    ] {
        assert_eq!(resources(&r, ty).len(), 1, "the reference has a {ty}");
        one(t, ty);
    }
    // Every load-balancing rule of the reference: same ports, TCP, SourceIP, with a probe.
    let ours = &one(t, "Microsoft.Network/loadBalancers")["properties"];
    for rule in one(&r, "Microsoft.Network/loadBalancers")["properties"]["loadBalancingRules"]
        .as_array()
        .unwrap()
    {
        let rp = &rule["properties"];
        let m = ours["loadBalancingRules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["properties"]["frontendPort"] == rp["frontendPort"])
            .unwrap_or_else(|| panic!("port {} routed", rp["frontendPort"]));
        assert_eq!(m["properties"]["backendPort"], rp["backendPort"]);
        assert_eq!(m["properties"]["protocol"], "Tcp");
        assert_eq!(m["properties"]["loadDistribution"], "SourceIP");
        assert!(m["properties"]["probe"]["id"].is_string());
    }
    // Same VMSS basics: overprovision off, the admin user, a VNet subnet, the backend pool.
    let (rv, ov) = (
        &one(&r, "Microsoft.Compute/virtualMachineScaleSets")["properties"],
        &one(t, "Microsoft.Compute/virtualMachineScaleSets")["properties"],
    );
    assert_eq!(rv["overprovision"], ov["overprovision"]);
    assert_eq!(
        ov["virtualMachineProfile"]["osProfile"]["adminUsername"],
        "[parameters('adminUsername')]"
    );
    assert!(t["parameters"]["adminUsername"]["defaultValue"].is_string());
    let ip = &ov["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
        ["ipConfigurations"][0]["properties"];
    assert!(
        ip["subnet"]["id"].is_string()
            && ip["loadBalancerBackendAddressPools"][0]["id"].is_string()
    );
    // The share is mounted, and linked for the admin user too (the reference's one user).
    let ud = a.user_data.as_deref().unwrap();
    let s = script(&a);
    assert!(ud.contains("DSVMPOOL_SOURCE='//") && ud.contains("DSVMPOOL_MOUNT='/"));
    assert!(s.contains("cifs") && s.contains("link_user"));
    // The admin user (made by the VM agent) gets the link at login, like every user.
    assert!(
        instance_file(&a, "/usr/share/pam-configs/dsvmpool-notebooks")
            .contains("pam_exec.so quiet /usr/local/sbin/dsvmpool-notebooks pam")
    );
    assert!(s.contains("PAM_USER") && s.contains("uid_min"));
    // Instance count and VM size stay parameters, as in the reference.
    assert!(t["parameters"]["instanceCount"].is_object() && t["parameters"]["vmSize"].is_object());
}

#[test]
fn defect_1_standard_sku_and_an_nsg_allowing_ssh_and_jupyterhub() {
    let r = reference();
    assert!(
        one(&r, "Microsoft.Network/loadBalancers")
            .get("sku")
            .is_none(),
        "the reference is Basic"
    );
    let t = &team().template;
    assert_eq!(
        one(t, "Microsoft.Network/loadBalancers")["sku"]["name"],
        "Standard"
    );
    let pip = one(t, "Microsoft.Network/publicIPAddresses");
    assert_eq!(pip["sku"]["name"], "Standard");
    assert_eq!(pip["properties"]["publicIPAllocationMethod"], "Static");
    let rules = one(t, "Microsoft.Network/networkSecurityGroups")["properties"]["securityRules"]
        .as_array()
        .unwrap();
    let ports: Vec<&str> = rules
        .iter()
        .map(|r| r["properties"]["destinationPortRange"].as_str().unwrap())
        .collect();
    assert_eq!(ports, ["22", "8000"]);
    for r in rules {
        assert_eq!(r["properties"]["access"], "Allow");
        assert_eq!(
            r["properties"]["sourceAddressPrefixes"],
            "[parameters('sourceAddressPrefixes')]"
        );
    }
    assert!(
        t["parameters"]["sourceAddressPrefixes"]["defaultValue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c != "0.0.0.0/0")
    );
    // The NSG is on the subnet.
    let vnet = one(t, "Microsoft.Network/virtualNetworks");
    assert!(
        vnet["properties"]["subnets"][0]["properties"]["networkSecurityGroup"]["id"].is_string()
    );
}

#[test]
fn defect_2_a_current_pinned_image() {
    let r = reference();
    assert_eq!(r["variables"]["osType"]["publisher"], "microsoft-ads");
    for (label, pool) in all_pools() {
        let t = render_ok(&label, &pool).template;
        let img = &one(&t, "Microsoft.Compute/virtualMachineScaleSets")["properties"]["virtualMachineProfile"]
            ["storageProfile"]["imageReference"];
        assert_ne!(img["publisher"], "microsoft-ads", "{label}");
        assert_ne!(img["offer"], "linux-data-science-vm-ubuntu", "{label}");
        assert_eq!(
            img["version"].as_str().unwrap().split('.').count(),
            3,
            "{label}: pinned"
        );
    }
    let t = team().template;
    let img = &one(&t, "Microsoft.Compute/virtualMachineScaleSets")["properties"]["virtualMachineProfile"]
        ["storageProfile"]["imageReference"];
    assert_eq!(
        (
            img["publisher"].as_str(),
            img["offer"].as_str(),
            img["sku"].as_str()
        ),
        (
            Some("microsoft-dsvm"),
            Some("ubuntu-2204"),
            Some("2204-gen2")
        )
    );
}

#[test]
fn defect_3_no_key_in_public_settings() {
    let r = reference();
    let cmd = r.to_string();
    assert!(
        cmd.contains("storageAccountKey'), ' '"),
        "the reference puts the key on a public command"
    );
    for (label, pool) in all_pools() {
        let t = render_ok(&label, &pool).template;
        let vmss = one(&t, "Microsoft.Compute/virtualMachineScaleSets");
        for e in vmss["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                e["properties"]["settings"],
                serde_json::json!({}),
                "{label}: public settings are empty"
            );
        }
    }
    // With an account key the key is read by listKeys into protected settings only.
    for name in ["smb-account-key", "windows-account-key"] {
        let text = inline(name).template_json();
        let t: Value = serde_json::from_str(&text).unwrap();
        let ext = &one(&t, "Microsoft.Compute/virtualMachineScaleSets")["properties"]["virtualMachineProfile"]
            ["extensionProfile"]["extensions"];
        let protected = ext
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["properties"]["protectedSettings"].to_string())
            .collect::<String>();
        assert!(protected.contains("listKeys("), "{name}");
        assert_eq!(
            text.matches("listKeys(").count(),
            protected.matches("listKeys(").count(),
            "{name}"
        );
    }
    // Default (managed identity): no key anywhere in the deployment.
    let text = team().template_json();
    assert!(!text.contains("listKeys(") && !text.contains("storageAccountKey"));
}

#[test]
fn defect_4_credentials_file_not_a_mount_option() {
    for a in [team(), inline("smb-account-key")] {
        let s = script(&a);
        let ud = a.user_data.as_deref().unwrap();
        for line in s.lines().chain(ud.lines()).filter(|l| l.contains("cifs")) {
            assert!(!line.contains("password="), "{line}");
        }
        assert!(ud.contains("DSVMPOOL_OPTIONS='vers=3.1.1,credentials=/etc/smbcredentials/"));
        assert!(ud.contains("DSVMPOOL_CRED_FILE='/etc/smbcredentials/"));
        let store = instance_file(&a, "/usr/local/sbin/dsvmpool-storage-key");
        assert!(
            store.contains("umask 077")
                && store.contains("chmod 0600 \"$tmp\"")
                && store.contains("install -d -m 0700 -o root -g root")
        );
    }
    // With an account key, the protected script hands the key over on standard input.
    let t = inline("smb-account-key").template_json();
    // (an ARM string literal: `'` doubled): the key's base64 encoding, decoded into stdin
    assert!(t.contains("base64(listKeys("), "{t}");
    assert!(t.contains("'' | base64 -d | /usr/local/sbin/dsvmpool-storage-key"));
}

#[test]
fn defect_5_persistent_mount_that_never_blocks_boot() {
    for a in [team(), inline("nfs-azure-zonal")] {
        let s = script(&a);
        let ud = a.user_data.as_deref().unwrap();
        assert!(ud.contains("_netdev,nofail,x-systemd.automount,x-systemd.mount-timeout=30'"));
        assert!(s.contains("/etc/fstab"));
        let unit = instance_file(&a, "/etc/systemd/system/dsvmpool-workspace.service");
        assert!(
            unit.contains("WantedBy=multi-user.target"),
            "runs at every boot"
        );
        assert!(unit.contains("Type=exec"), "boot does not wait for it");
        assert!(s.contains("delay=$((delay * 2))"), "retries with backoff");
    }
}

#[test]
fn defect_6_idempotent() {
    let s = script(&team());
    assert!(
        s.contains("$0 != marker && !($1 !~ /^#/ && $2 == mnt)") && s.contains("cmp -s"),
        "fstab entry replaced, not appended"
    );
    assert!(
        s.contains("have=$(id -u -- \"$name\""),
        "existing users are kept"
    );
    assert!(s.contains("[ -d \"$dir\" ] ||"));
    // Links live in the home directory, never inside the share; an existing link is kept.
    assert!(s.contains("link=\"$home/notebooks/remote\"") && s.contains("ln -sfn --"));
    assert!(s.contains("[ \"$(readlink \"$link\")\" = \"$target\" ]"));
    assert!(s.contains("grep -qxF"), "SSH keys are added once");
}

#[test]
fn defect_7_every_user_gets_notebooks_and_failures_count() {
    let s = script(&team());
    assert!(s.contains("printf '%s/notebooks/%s\\n' \"$DSVMPOOL_MOUNT\" \"$1\""));
    assert!(
        s.contains("known_users"),
        "the pool's users and every user linked to the share"
    );
    assert!(
        s.contains("|| rc=$E_USERS") && s.contains("exit \"$rc\""),
        "the exit status covers every user"
    );
    for (label, pool) in all_pools() {
        let Some(ud) = render_ok(&label, &pool).user_data else {
            continue;
        };
        for u in &pool.spec().users {
            let line = format!("{}:{}:{}:{}", u.name, u.uid, u.gid(), u8::from(u.admin));
            assert!(ud.contains(&line), "{label}: {line}");
        }
    }
}

#[test]
fn defect_8_no_world_writable_notebooks() {
    for (label, pool) in all_pools() {
        for f in render_ok(&label, &pool).files {
            assert!(
                !f.content.contains("0777") && !f.content.contains("777,"),
                "{label}: {}",
                f.path
            );
        }
    }
    let s = script(&team());
    assert!(s.contains("dir_mode=0700,file_mode=0600") && s.contains("mode=0700 group=$gid"));
}

#[test]
fn defect_9_no_spec_value_in_shell_code() {
    // The scripts are static; every value is a quoted assignment in pool.conf.
    use dsvmpool::render::mount::scripts;
    let statics = [
        ("/usr/local/lib/dsvmpool/dsvmpool-lib.sh", scripts::LIB),
        (
            "/usr/local/lib/dsvmpool/dsvmpool-fetch-key",
            scripts::FETCH_KEY,
        ),
        ("/usr/local/sbin/dsvmpool-provision", scripts::PROVISION),
        ("/usr/local/sbin/dsvmpool-workspace", scripts::WORKSPACE),
        ("/usr/local/sbin/dsvmpool-notebooks", scripts::NOTEBOOKS),
        ("/usr/local/sbin/dsvmpool-storage-key", scripts::STORAGE_KEY),
    ];
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool);
        if a.user_data.is_none() {
            continue;
        }
        for (path, text) in statics {
            assert_eq!(instance_file(&a, path), text, "{label}: {path}");
        }
        let conf = instance_file(&a, "/etc/dsvmpool/pool.conf");
        let mut n = 0;
        for l in conf.lines().filter(|l| !l.starts_with('#')) {
            let (k, v) = l.split_once('=').unwrap();
            assert!(
                k.starts_with("DSVMPOOL_") && k.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{label}: {l}"
            );
            let inner = v.replace(r"'\''", "");
            assert!(
                inner.len() >= 2
                    && inner.starts_with('\'')
                    && inner.ends_with('\'')
                    && !inner[1..inner.len() - 1].contains('\''),
                "{label}: {l}"
            );
            n += 1;
        }
        assert!(n > 10, "{label}");
    }
}

#[test]
fn defect_10_dependencies_outputs_probes_nat_and_mount_path() {
    let r = reference();
    let rdeps = one(&r, "Microsoft.Compute/virtualMachineScaleSets")["dependsOn"].to_string();
    assert!(
        !rdeps.contains("virtualNetworks"),
        "the reference misses the VNet"
    );
    assert!(r.get("outputs").is_none());
    let a = team();
    let t = &a.template;
    let deps = one(t, "Microsoft.Compute/virtualMachineScaleSets")["dependsOn"].to_string();
    for ty in [
        "virtualNetworks",
        "networkSecurityGroups",
        "loadBalancers",
        "storageAccounts/",
        "fileServices/shares",
    ] {
        assert!(deps.contains(ty), "VMSS depends on {ty}: {deps}");
    }
    for o in [
        "fqdn",
        "jupyterHubUrl",
        "sshCommand",
        "instancePortRange",
        "scaleSetId",
        "sharePath",
    ] {
        assert!(t["outputs"][o]["value"].is_string(), "output {o}");
    }
    let lb = &one(t, "Microsoft.Network/loadBalancers")["properties"];
    let probes = lb["probes"].as_array().unwrap();
    let jh = probes
        .iter()
        .find(|p| p["properties"]["port"] == 8000)
        .unwrap();
    assert_eq!(jh["properties"]["protocol"], "Https");
    assert_eq!(jh["properties"]["requestPath"], "/hub/health");
    assert!(
        probes
            .iter()
            .any(|p| p["properties"]["port"] == 22 && p["properties"]["protocol"] == "Tcp")
    );
    let nat = &lb["inboundNatRules"][0]["properties"];
    assert_eq!(
        (
            nat["frontendPortRangeStart"].as_u64(),
            nat["frontendPortRangeEnd"].as_u64(),
            nat["backendPort"].as_u64()
        ),
        (Some(50000), Some(50999), Some(22))
    );
    assert!(nat["backendAddressPool"]["id"].is_string());
    assert!(
        lb["outboundRules"][0]["properties"]["allocatedOutboundPorts"]
            .as_u64()
            .unwrap()
            >= 8
    );
    for (label, pool) in all_pools() {
        let out = render_ok(&label, &pool).template["outputs"]["mountPath"]["value"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!out.starts_with("/mnt"), "{label}: {out}");
    }
}

#[test]
fn defect_11_autoscale_down_to_zero() {
    let r = reference();
    assert!(resources(&r, "Microsoft.Insights/autoscalesettings").is_empty());
    let t = team().template;
    let a = one(&t, "Microsoft.Insights/autoscalesettings");
    assert_eq!(a["apiVersion"], "2022-10-01");
    assert_eq!(
        a["properties"]["targetResourceUri"],
        one(&t, "Microsoft.Compute/virtualMachineScaleSets")["name"]
            .as_str()
            .map(|n| format!("[resourceId('Microsoft.Compute/virtualMachineScaleSets', '{n}')]"))
            .unwrap()
    );
    let profiles = a["properties"]["profiles"].as_array().unwrap();
    let off = profiles
        .iter()
        .find(|p| p["capacity"]["maximum"] == "0")
        .expect("an off-hours profile at zero");
    assert_eq!(off["recurrence"]["frequency"], "Week");
    let work = profiles.iter().find(|p| p["name"] == "work-hours").unwrap();
    assert_eq!(
        work["recurrence"]["schedule"]["hours"],
        serde_json::json!([8])
    );
    assert_eq!(
        off["recurrence"]["schedule"]["hours"],
        serde_json::json!([19])
    );
    assert_eq!(
        work["recurrence"]["schedule"]["days"],
        off["recurrence"]["schedule"]["days"]
    );
}

#[test]
fn the_template_uses_current_schema_and_api_versions() {
    let t = team().template;
    assert_eq!(
        t["$schema"],
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    );
    for r in t["resources"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let want = match ty.split('/').next().unwrap() {
            "Microsoft.Compute" => "2024-07-01",
            "Microsoft.Network" => "2024-05-01",
            "Microsoft.Insights" => "2022-10-01",
            "Microsoft.Storage" => "2023-05-01",
            "Microsoft.Authorization" => "2022-04-01",
            "Microsoft.Resources" => "2024-03-01",
            other => panic!("{other}"),
        };
        assert_eq!(r["apiVersion"], want, "{ty}");
    }
}

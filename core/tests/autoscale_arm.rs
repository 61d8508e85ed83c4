//! The autoscale setting rendered from pool specs is valid ARM: checked with the official
//! Microsoft.Insights 2022-10-01 schema by `../shared/tools/arm-validate/validate_template.py
//! --strict` (unknown properties are errors). Needs `python3` with `jsonschema>=4.18`
//! (`DSVMPOOL_PYTHON` names another interpreter); CI stage 10 provides it (scripts/ci-lib/checkers.sh).

use dsvmpool::Pool;
use dsvmpool::autoscale::settings_from_pool;
use std::path::Path;
use std::process::Command;

const SPECS: &[&str] = &[
    "[autoscale.scale_to_zero]\nmin = 2\ntime_zone = \"W. Europe Standard Time\"\n[[autoscale.rules]]\nmetric = \"Percentage CPU\"\noperator = \">\"\nthreshold = 70\naction = \"increase\"\nvalue = 2\n[autoscale.sessions]\ntarget_per_vm = 4\n",
    "[[autoscale.profiles]]\nname = \"year-end\"\nmin = 0\nmax = 0\ndefault = 0\nfixed_date = { start = \"2026-12-24T00:00\", end = \"2027-01-02T00:00\" }\n[[autoscale.profiles]]\nname = \"always\"\nmin = 1\nmax = 4\ndefault = 1\n[[autoscale.profiles.rules]]\nmetric = \"Percentage CPU\"\noperator = \"<\"\nthreshold = 20\naction = \"decrease\"\ntype = \"percent_change_count\"\nvalue = 50\n",
    "",
];

#[test]
fn rendered_autoscale_settings_pass_the_official_schema() {
    let python = std::env::var("DSVMPOOL_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_jsonschema = Command::new(&python)
        .args(["-c", "import jsonschema, referencing"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_jsonschema {
        eprintln!("skipped: {python} has no jsonschema (CI stage 10 runs this test)");
        assert!(
            std::env::var("DSVMPOOL_REQUIRE_ARM_VALIDATE").is_err(),
            "jsonschema is required here"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tool = root.join("shared/tools/arm-validate/validate_template.py");
    let dir = std::env::temp_dir().join(format!("dsvmpool-arm-autoscale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, extra) in SPECS.iter().enumerate() {
        let pool = Pool::from_toml(&format!(
            "name = \"team\"\nlocation = \"westeurope\"\nresource_group = \"rg-team\"\n[access]\nssh_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0yLqYbV2kz8m1X1r4cU0kZ9C7t2XQf6m7j1sP3dE1a lead@laptop\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n[capacity]\nmax = 10\n{extra}"
        ))
        .unwrap()
        .validate()
        .unwrap();
        let target = "[resourceId('Microsoft.Compute/virtualMachineScaleSets', 'team-vmss')]";
        let template = serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "resources": [{
                "type": "Microsoft.Insights/autoscalesettings",
                "apiVersion": "2022-10-01",
                "name": "team-autoscale",
                "location": "westeurope",
                "properties": settings_from_pool(&pool, target),
            }]
        });
        let f = dir.join(format!("autoscale-{i}.json"));
        std::fs::write(&f, serde_json::to_string_pretty(&template).unwrap()).unwrap();
        files.push(f);
    }
    let out = Command::new(&python)
        .arg(&tool)
        .arg("--strict")
        .args(&files)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

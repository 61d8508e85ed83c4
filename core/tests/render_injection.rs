//! No spec string becomes an ARM expression.
//!
//! A template string that starts with `[` and ends with `]` is an expression, evaluated at
//! deployment (`[listKeys(...)]` would read secrets, `[reference(...)]` any resource). Every
//! string field of every render spec (tag names included) is set, one at a time, to payloads
//! that look like expressions or try to leave a quoted literal; the spec is then either rejected
//! by validation, naming the field, or rendered, and then no string of the template or of the
//! parameters file that holds the payload is an expression, unless the payload sits inside a
//! quoted literal of an expression the renderer wrote.

mod render_support;

use dsvmpool::render::{RenderOptions, render};
use dsvmpool::{Pool, ValidPool};
use render_support::*;
use serde_json::Value;

/// The marker every payload carries.
const MARK: &str = "zzinjectzz";

/// Payloads: a bare expression, one with a quoted argument, one with a quote that would end
/// a literal it was put in, and a non-bracketed one that tries to leave a literal.
fn payloads() -> Vec<String> {
    vec![
        format!("[{MARK}()]"),
        format!("[concat('{MARK}')]"),
        format!("[{MARK}'), listKeys('x', '1')]"),
        format!("a'), {MARK}(), concat('b"),
    ]
}

/// Whether a JSON string is an expression (ARM: `[...]`, except the `[[` escape).
fn is_expression(s: &str) -> bool {
    s.starts_with('[') && s.ends_with(']') && !s.starts_with("[[")
}

/// An expression split into the text outside its quoted literals and the literals' values
/// (`''` inside a literal is one `'`).
fn split_literals(expr: &str) -> (String, Vec<String>) {
    let mut outside = String::new();
    let mut lits = vec![];
    let mut cur: Option<String> = None;
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match (&mut cur, c) {
            (Some(l), '\'') if chars.peek() == Some(&'\'') => {
                chars.next();
                l.push('\'');
            }
            (Some(_), '\'') => lits.push(cur.take().unwrap_or_default()),
            (Some(l), c) => l.push(c),
            (None, '\'') => cur = Some(String::new()),
            (None, c) => outside.push(c),
        }
    }
    if let Some(l) = cur {
        lits.push(l);
    }
    (outside, lits)
}

/// Whether a template string lets `payload` act as (part of) an expression: it is an
/// expression and the payload's marker is outside its literals, or in a literal that does not
/// hold the whole payload (so the payload's own quotes made that literal).
fn lets_through(s: &str, payload: &str) -> bool {
    if !is_expression(s) || !s.contains(MARK) {
        return false;
    }
    let (outside, lits) = split_literals(s);
    outside.contains(MARK)
        || lits
            .iter()
            .any(|l| l.contains(MARK) && !l.contains(payload))
}

/// Paths of every string leaf of a spec (as the validator spells paths), tag names as
/// `tags{name}`.
fn leaves(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(path.to_string()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if path == "tags" {
                    out.push(format!("tags{{{k}}}"));
                }
                leaves(x, &p, out);
            }
        }
        _ => {}
    }
}

/// `v` with the leaf at `path` (see [`leaves`]) replaced by `payload`.
fn with_payload(v: &Value, path: &str, payload: &str) -> Value {
    let mut v = v.clone();
    if let Some(tag) = path.strip_prefix("tags{").and_then(|s| s.strip_suffix('}')) {
        let tags = v["tags"].as_object_mut().unwrap();
        let val = tags.remove(tag).unwrap();
        tags.insert(payload.to_string(), val);
        return v;
    }
    let mut cur = &mut v;
    for seg in path.split('.') {
        let (key, idx) = match seg.find('[') {
            Some(i) => (&seg[..i], Some(&seg[i..])),
            None => (seg, None),
        };
        cur = &mut cur[key];
        if let Some(idx) = idx {
            for n in idx.split(['[', ']']).filter(|s| !s.is_empty()) {
                cur = &mut cur[n.parse::<usize>().unwrap()];
            }
        }
    }
    *cur = Value::String(payload.to_string());
    v
}

/// Every string (and object key) of a JSON document that is an expression holding `MARK`
/// outside its quoted literals.
fn injected(v: &Value, payload: &str, path: String, out: &mut Vec<String>) {
    let bad = |s: &str| lets_through(s, payload);
    match v {
        Value::String(s) if bad(s) => out.push(format!("{path} = {s}")),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                injected(x, payload, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if bad(k) {
                    out.push(format!("{path} has the key {k}"));
                }
                injected(x, payload, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Whether a rejection names the field: a diagnostic at the field, at a parent of it or at a
/// part of it, or a parse error that names the field.
fn names_field(e: &dsvmpool::Error, path: &str) -> bool {
    let field = path.split('{').next().unwrap_or(path);
    match e.validation() {
        Some(v) => v.errors.iter().any(|d| {
            d.path == field
                || field.starts_with(&format!("{}.", d.path))
                || field.starts_with(&format!("{}[", d.path))
                || d.path.starts_with(field)
        }),
        None => {
            let last = field.rsplit('.').next().unwrap_or(field);
            let last = last.split('[').next().unwrap_or(last);
            e.to_string().contains(last)
        }
    }
}

/// Specs that set the optional strings the render specs leave out.
fn extra_specs() -> Vec<(String, String)> {
    let vmss_metrics = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-m/providers/Microsoft.Compute/virtualMachineScaleSets/other";
    vec![
        (
            "sessions-and-namespaces".into(),
            format!(
                r#"name = "sess"
location = "westeurope"
resource_group = "rg-sess"
tags = {{ owner = "lab" }}
[vm]
computer_name_prefix = "sessvm"
[access]
ssh_keys = ["{KEY}"]
dns_label = "sess-pool"
source_cidrs = ["203.0.113.0/24"]
[storage]
key = {{ key_vault = {{ id = "{VAULT}", secret = "share-key", version = "0123456789abcdef0123456789abcdef" }} }}
account = {{ name = "sessacct01", create = false, resource_group = "rg-shared" }}
share = {{ name = "work" }}
[autoscale.sessions]
target_per_vm = 4
metric = "Sessions"
waiting_metric = "WaitingSessions"
namespace = "dsvmpool"
resource_id = "{vmss_metrics}"
[[autoscale.rules]]
metric = "Percentage CPU"
namespace = "microsoft.compute/virtualmachinescalesets"
resource_id = "{vmss_metrics}"
operator = "greater_than"
threshold = 75
action = "increase"
value = 1
[autoscale.scale_to_zero]
days = ["mon"]
start = "08:00"
end = "18:00"
time_zone = "W. Europe Standard Time"
"#
            ),
        ),
        (
            "windows-prefix".into(),
            "name = \"winp\"\nlocation = \"eastus\"\nresource_group = \"rg-winp\"\ntags = { owner = \"lab\" }\n[vm]\nos = \"windows\"\ncomputer_name_prefix = \"winp\"\n[access]\npassword = { env = \"DSVMPOOL_ADMIN_PASSWORD\" }\njupyterhub = { enabled = false }\nsource_cidrs = [\"203.0.113.0/24\"]\n[storage]\ncredential = \"account_key\"\n".into(),
        ),
    ]
}

fn base_specs() -> Vec<(String, ValidPool)> {
    let mut out = all_pools();
    for (name, text) in extra_specs() {
        let pool = Pool::from_toml(&text)
            .and_then(|p| p.validate())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("extra/{name}"), pool));
    }
    out
}

#[test]
fn no_spec_string_becomes_an_expression() {
    // The secrets the inline specs reference by environment variable.
    for (k, v) in SECRET_ENV {
        // SAFETY: set before any thread of this test binary reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
    let mut failures = vec![];
    let mut tried = 0usize;
    let mut rendered = 0usize;
    for (label, pool) in base_specs() {
        let base = serde_json::to_value(pool.spec()).unwrap();
        let mut paths = vec![];
        leaves(&base, "", &mut paths);
        assert!(
            paths.len() > 10,
            "{label}: only {} string fields",
            paths.len()
        );
        for path in &paths {
            for payload in payloads() {
                tried += 1;
                let spec = with_payload(&base, path, &payload);
                let checked = Pool::from_value(spec).and_then(|p| p.validate());
                // A refusal, at validation or at render, must name the field.
                let out = match checked.and_then(|valid| render(&valid, &RenderOptions::default()))
                {
                    Ok(o) => o,
                    Err(e) => {
                        if !names_field(&e, path) {
                            failures.push(format!(
                                "{label}: {path} = {payload:?} refused without naming the field: {e}"
                            ));
                        }
                        continue;
                    }
                };
                rendered += 1;
                let mut found = vec![];
                injected(&out.template, &payload, "template".into(), &mut found);
                injected(&out.parameters, &payload, "parameters".into(), &mut found);
                for f in found {
                    failures.push(format!("{label}: {path} = {payload:?}: {f}"));
                }
            }
        }
    }
    assert!(
        rendered > 0,
        "no payload was accepted: the test proves nothing"
    );
    assert!(
        failures.is_empty(),
        "{} of {tried} hostile specs ({rendered} rendered):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn escaped_strings_keep_their_value() {
    let text = format!(
        "name = \"esc\"\nlocation = \"westeurope\"\nresource_group = \"rg-esc\"\ntags = {{ \"[k]\" = \"[listKeys('x', '1')]\", plain = \"[not closed\" }}\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n"
    );
    let pool = Pool::from_toml(&text).unwrap().validate().unwrap();
    let out = render(&pool, &RenderOptions::default()).unwrap();
    let tags = &out.template["resources"][0]["tags"];
    assert_eq!(tags["[[k]"], "[[listKeys('x', '1')]", "{tags}");
    // not an expression, so not escaped (ARM keeps it as written)
    assert_eq!(tags["plain"], "[not closed", "{tags}");
}

#[test]
fn literal_stripping() {
    let (outside, lits) = split_literals("[concat('a''b', x)]");
    assert_eq!(
        (outside.as_str(), lits),
        ("[concat(, x)]", vec!["a'b".to_string()])
    );
    let p = format!("[concat('{MARK}')]");
    assert!(
        lets_through(&p, &p),
        "the payload as written is an expression"
    );
    let quoted = format!("[resourceId('t', '{}')]", p.replace('\'', "''"));
    assert!(
        !lets_through(&quoted, &p),
        "the payload quoted as one literal is data"
    );
    assert!(is_expression("[x]") && !is_expression("[[x]") && !is_expression("[x"));
}

#[test]
fn rule_namespaces_are_validated() {
    for (ns, ok) in [
        ("microsoft.compute/virtualmachinescalesets", true),
        ("dsvmpool", true),
        ("[listKeys('x', '1')]", false),
        ("/leading-slash", false),
        ("with space", false),
        ("", false),
    ] {
        let text = format!(
            "name = \"ns\"\nlocation = \"westeurope\"\nresource_group = \"rg-ns\"\n[access]\nssh_keys = [\"{KEY}\"]\nsource_cidrs = [\"203.0.113.0/24\"]\n[[autoscale.rules]]\nmetric = \"Percentage CPU\"\nnamespace = \"{}\"\noperator = \"greater_than\"\nthreshold = 75\naction = \"increase\"\nvalue = 1\n",
            ns.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let r = Pool::from_toml(&text).unwrap().validate();
        match (r, ok) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let v = e.validation().expect("a validation error");
                assert!(
                    v.errors
                        .iter()
                        .any(|d| d.path == "autoscale.rules[0].namespace"
                            && d.rule == "metric-namespace"),
                    "{ns:?}: {e}"
                );
            }
            (r, _) => panic!("{ns:?}: {r:?}"),
        }
    }
}

/// Every storage key expression in a template (`listKeys(...)` or the key parameter) is
/// wrapped in `base64(...)`: the scripts get the key's encoding as data, never the key as text,
/// and the Windows command never passes it as a PowerShell argument.
#[test]
fn storage_keys_reach_scripts_only_base64_encoded() {
    for (k, v) in SECRET_ENV {
        // SAFETY: set before any thread of this test binary reads the environment.
        unsafe { std::env::set_var(k, v) };
    }
    let mut seen = 0;
    for (label, pool) in base_specs() {
        let out = render(&pool, &RenderOptions::default()).unwrap();
        let t = out.template_json();
        for needle in [
            "listKeys(",
            "parameters(''storageAccountKey'')",
            "parameters('storageAccountKey')",
        ] {
            for (i, _) in t.match_indices(needle) {
                seen += 1;
                assert!(
                    t[..i].ends_with("base64("),
                    "{label}: a key expression outside base64(): ...{}",
                    &t[i.saturating_sub(80)..(i + 60).min(t.len())]
                );
            }
        }
        assert!(
            !t.contains(" -StorageKey"),
            "{label}: the key as a PowerShell argument"
        );
        if pool.is_windows() && t.contains("base64(listKeys(") {
            assert!(t.contains("'cmd /c echo ', base64(listKeys("), "{label}");
            assert!(t.contains("$k = @($input)[0]"), "{label}");
        }
    }
    assert!(
        seen >= 3,
        "the specs hold Linux and Windows key deliveries ({seen})"
    );
}

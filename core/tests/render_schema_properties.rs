//! Our property names match the official ARM schemas: a walk of every rendered template against
//! the schema of each resource's `type@apiVersion` (`../shared/fixtures/arm/schemas`), reporting
//! every key an object's schema does not declare. ARM ignores unknown properties, so a typo (say
//! `protectedSetings`) would otherwise deploy silently without its protection.

mod render_support;

use render_support::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const BASE: &str = "https://schema.management.azure.com/schemas/";

/// Keys ARM accepts on every resource of a template (the template language's, not the
/// provider's), plus the nested-deployment targets `subscriptionId` and `resourceGroup`.
const RESOURCE_KEYS: &[&str] = &[
    "condition",
    "copy",
    "dependsOn",
    "comments",
    "metadata",
    "scope",
    "tags",
    "apiVersion",
    "type",
    "name",
    "location",
    "properties",
    "sku",
    "kind",
    "identity",
    "plan",
    "zones",
    "resources",
    "existing",
];
const DEPLOYMENT_TARGET_KEYS: &[&str] = &["subscriptionId", "resourceGroup"];
const TEMPLATE_KEYS: &[&str] = &[
    "$schema",
    "contentVersion",
    "metadata",
    "parameters",
    "variables",
    "resources",
    "outputs",
    "functions",
    "apiProfile",
];
const PARAMETER_KEYS: &[&str] = &[
    "type",
    "defaultValue",
    "allowedValues",
    "minValue",
    "maxValue",
    "minLength",
    "maxLength",
    "metadata",
];
const OUTPUT_KEYS: &[&str] = &["type", "value", "condition", "copy", "metadata"];

struct Schemas {
    files: HashMap<String, Value>,
}

/// A schema node with the URL of the file it is in (to resolve relative `$ref`s).
#[derive(Clone)]
struct Node<'a> {
    schema: &'a Value,
    file: &'a str,
}

impl Schemas {
    fn load(dir: &Path) -> Schemas {
        let mut files = HashMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    let text = std::fs::read_to_string(&p).unwrap();
                    let text = text.trim_start_matches('\u{feff}');
                    files.insert(format!("{BASE}{rel}"), serde_json::from_str(text).unwrap());
                }
            }
        }
        Schemas { files }
    }

    fn key(&self, url: &str) -> Option<(&str, &Value)> {
        let url = url.replace("http://", "https://");
        self.files
            .get_key_value(url.as_str())
            .map(|(k, v)| (k.as_str(), v))
    }

    fn resolve<'a>(&'a self, r: &str, from: &'a str) -> Option<Node<'a>> {
        let (url, ptr) = r.split_once('#').unwrap_or((r, ""));
        let (file, mut node) = if url.is_empty() {
            self.key(from)?
        } else {
            self.key(url)?
        };
        for part in ptr.split('/').filter(|p| !p.is_empty()) {
            node = node.get(part.replace("~1", "/").replace("~0", "~"))?;
        }
        Some(Node { schema: node, file })
    }

    /// The resource definition of `type@apiVersion`.
    fn resource(&self, ty: &str, api: &str) -> Option<Node<'_>> {
        for (url, doc) in &self.files {
            if !url.starts_with(&format!("{BASE}{api}/")) {
                continue;
            }
            let Some(defs) = doc.get("resourceDefinitions").and_then(Value::as_object) else {
                continue;
            };
            for def in defs.values() {
                let types = def
                    .pointer("/properties/type/enum")
                    .and_then(Value::as_array);
                if types.is_some_and(|t| {
                    t.iter()
                        .any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(ty)))
                }) {
                    return Some(Node {
                        schema: def,
                        file: url,
                    });
                }
            }
        }
        None
    }

    /// Every alternative a value may match: `$ref`s resolved, `allOf`/`oneOf`/`anyOf` flattened.
    fn branches<'a>(&'a self, n: Node<'a>, out: &mut Vec<Node<'a>>, depth: usize) {
        if depth > 40 {
            return;
        }
        if let Some(r) = n.schema.get("$ref").and_then(Value::as_str) {
            if let Some(t) = self.resolve(r, n.file) {
                self.branches(t, out, depth + 1);
            }
            return;
        }
        out.push(n.clone());
        for k in ["allOf", "oneOf", "anyOf"] {
            if let Some(list) = n.schema.get(k).and_then(Value::as_array) {
                for b in list {
                    self.branches(
                        Node {
                            schema: b,
                            file: n.file,
                        },
                        out,
                        depth + 1,
                    );
                }
            }
        }
    }
}

fn is_expression(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.starts_with('[') && !s.starts_with("[[") && s.ends_with(']'))
}

struct Walker<'a> {
    schemas: &'a Schemas,
    problems: Vec<String>,
}

impl<'a> Walker<'a> {
    /// Walk `v` against alternative schemas `ns` (a key declared by any of them is accepted).
    fn walk(&mut self, ns: Vec<Node<'a>>, v: &Value, path: &str) {
        if is_expression(v) {
            return;
        }
        let mut bs = vec![];
        for n in ns {
            self.schemas.branches(n, &mut bs, 0);
        }
        match v {
            Value::Object(m) => {
                // A branch applies unless one of its enum-valued properties rules the value out.
                let applies = |b: &Node| {
                    b.schema
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_none_or(|props| {
                            props.iter().all(|(k, s)| {
                                match (s.get("enum").and_then(Value::as_array), m.get(k)) {
                                    (Some(allowed), Some(val)) if !is_expression(val) => {
                                        allowed.contains(val)
                                    }
                                    _ => true,
                                }
                            })
                        })
                };
                // Descend into a key only when every applicable branch that declares properties
                // declares it (an applicable branch leaving it open leaves it unchecked).
                let applicable: Vec<&Node> = bs
                    .iter()
                    .filter(|b| applies(b))
                    .filter(|b| {
                        b.schema
                            .get("properties")
                            .and_then(Value::as_object)
                            .is_some_and(|p| !p.is_empty())
                    })
                    .collect();
                let mut descend: BTreeMap<&str, Vec<Node<'a>>> = BTreeMap::new();
                for k in m.keys() {
                    let nodes: Vec<Node<'a>> = applicable
                        .iter()
                        .filter_map(|b| {
                            b.schema["properties"].get(k.as_str()).map(|s| Node {
                                schema: s,
                                file: b.file,
                            })
                        })
                        .collect();
                    if !nodes.is_empty() && nodes.len() == applicable.len() {
                        descend.insert(k.as_str(), nodes);
                    }
                }
                let mut declared: BTreeMap<&str, Vec<Node<'a>>> = BTreeMap::new();
                let mut any_declares = false;
                let mut extra_ok = false;
                let mut extra: Vec<Node<'a>> = vec![];
                for b in &bs {
                    if let Some(props) = b.schema.get("properties").and_then(Value::as_object) {
                        if !props.is_empty() {
                            any_declares = true;
                        }
                        for (k, s) in props {
                            declared.entry(k).or_default().push(Node {
                                schema: s,
                                file: b.file,
                            });
                        }
                    }
                    match b.schema.get("additionalProperties") {
                        Some(Value::Bool(true)) => extra_ok = true,
                        Some(s @ Value::Object(_)) => {
                            extra_ok = true;
                            extra.push(Node {
                                schema: s,
                                file: b.file,
                            });
                        }
                        _ => {}
                    }
                    if b.schema.get("patternProperties").is_some() {
                        extra_ok = true;
                    }
                    // An explicitly free-form object (`{"type": "object"}`) accepts any key.
                    if b.schema.get("type").and_then(Value::as_str) == Some("object")
                        && b.schema.get("properties").is_none()
                        && b.schema.get("additionalProperties").is_none()
                    {
                        extra_ok = true;
                    }
                }
                for (k, val) in m {
                    let p = format!("{path}.{k}");
                    if declared.contains_key(k.as_str()) {
                        // Accepted when any branch declares it; checked against the branches
                        // that apply to this value.
                        if let Some(ns) = descend.get(k.as_str()) {
                            self.walk(ns.clone(), val, &p);
                        }
                    } else if !extra.is_empty() {
                        self.walk(extra.clone(), val, &p);
                    } else if any_declares && !extra_ok {
                        let hint = declared
                            .keys()
                            .find(|d| d.eq_ignore_ascii_case(k))
                            .map(|d| format!(" (did you mean `{d}`?)"))
                            .unwrap_or_default();
                        self.problems
                            .push(format!("{p}: `{k}` is not declared by the schema{hint}"));
                    }
                }
            }
            Value::Array(items) => {
                let item_schemas: Vec<Node<'a>> = bs
                    .iter()
                    .filter_map(|b| {
                        b.schema.get("items").map(|s| Node {
                            schema: s,
                            file: b.file,
                        })
                    })
                    .collect();
                for (i, it) in items.iter().enumerate() {
                    self.walk(item_schemas.clone(), it, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn resource(&mut self, r: &Value, path: &str) {
        let ty = r["type"].as_str().unwrap_or_default();
        let api = r["apiVersion"].as_str().unwrap_or_default();
        let Some(def) = self.schemas.resource(ty, api) else {
            self.problems
                .push(format!("{path}: no schema for {ty}@{api}"));
            return;
        };
        let props = def
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in r.as_object().unwrap() {
            let p = format!("{path}.{k}");
            if props.contains_key(k) {
                if k == "properties" && ty == "Microsoft.Resources/deployments" {
                    // The nested template is walked as resources below.
                    for (i, inner) in v["template"]["resources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        self.resource(inner, &format!("{p}.template.resources[{i}]"));
                    }
                    continue;
                }
                let node = Node {
                    schema: def.schema.get("properties").unwrap().get(k).unwrap(),
                    file: def.file,
                };
                self.walk(vec![node], v, &p);
            } else if !RESOURCE_KEYS.contains(&k.as_str())
                && !(ty == "Microsoft.Resources/deployments"
                    && DEPLOYMENT_TARGET_KEYS.contains(&k.as_str()))
            {
                self.problems
                    .push(format!("{p}: `{k}` is not a resource property"));
            }
        }
    }
}

fn check_template(schemas: &Schemas, t: &Value) -> Vec<String> {
    let mut w = Walker {
        schemas,
        problems: vec![],
    };
    for k in t.as_object().unwrap().keys() {
        if !TEMPLATE_KEYS.contains(&k.as_str()) {
            w.problems.push(format!("$.{k}: not a template section"));
        }
    }
    for (name, p) in t["parameters"].as_object().into_iter().flatten() {
        for k in p.as_object().unwrap().keys() {
            if !PARAMETER_KEYS.contains(&k.as_str()) {
                w.problems
                    .push(format!("$.parameters.{name}.{k}: not a parameter property"));
            }
        }
    }
    for (name, o) in t["outputs"].as_object().into_iter().flatten() {
        for k in o.as_object().unwrap().keys() {
            if !OUTPUT_KEYS.contains(&k.as_str()) {
                w.problems
                    .push(format!("$.outputs.{name}.{k}: not an output property"));
            }
        }
    }
    for (i, r) in t["resources"].as_array().unwrap().iter().enumerate() {
        w.resource(r, &format!("$.resources[{i}]"));
    }
    w.problems
}

#[test]
fn every_property_name_is_declared_by_the_arm_schemas() {
    let schemas = Schemas::load(&schemas_dir());
    let mut problems = vec![];
    for (label, pool) in all_pools() {
        let a = render_ok(&label, &pool);
        for p in check_template(&schemas, &a.template) {
            problems.push(format!("{label}: {p}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_misspelled_property_is_caught() {
    let schemas = Schemas::load(&schemas_dir());
    let pools = all_pools();
    for (needle, typo) in [
        ("\"protectedSettings\"", "\"protectedSetings\""),
        (
            "\"disablePasswordAuthentication\"",
            "\"disablePasswordAuthentcation\"",
        ),
        ("\"loadDistribution\"", "\"loadDistibution\""),
        (
            "\"supportsHttpsTrafficOnly\"",
            "\"supportHttpsTrafficOnly\"",
        ),
        ("\"notBeforeTimeout\"", "\"notBeforeTimout\""),
        ("\"timeAggregation\"", "\"timeAgregation\""),
        ("\"principalType\"", "\"principalTyp\""),
    ] {
        let (label, pool) = pools
            .iter()
            .find(|(_, p)| render_ok("", p).template_json().contains(needle))
            .unwrap_or_else(|| panic!("no template has {needle}"));
        let a = render_ok(label, pool);
        let t: Value = serde_json::from_str(&a.template_json().replacen(needle, typo, 1)).unwrap();
        let problems = check_template(&schemas, &t);
        let typo = typo.trim_matches('"');
        assert!(
            problems.iter().any(|p| p.contains(&format!("`{typo}`"))),
            "{typo} not caught in {label}: {problems:?}"
        );
    }
}

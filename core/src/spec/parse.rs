//! Parsing a pool spec from TOML (primary), YAML or JSON into a [`PoolSpec`].
//!
//! Parse errors become [`Diagnostic`]s with the field path where serde stopped, so a typo in a
//! key reads like a validation error (`storage.share.nmae: unknown field; did you mean `name`?`).

use super::model::PoolSpec;
use crate::error::{Diagnostic, Error, Result};
use std::path::Path;

/// Input format of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// TOML (primary).
    Toml,
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// Format from a file extension (`toml`, `yaml`/`yml`, `json`).
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// Format from its name (`toml`, `yaml`, `yml`, `json`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Parse `text` in `format`.
pub fn parse_str(text: &str, format: Format) -> Result<PoolSpec> {
    let r = match format {
        Format::Toml => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| syntax_error(text, e.message(), e.span()))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                from_serde(&path, inner.message(), || location(text, inner.span()))
            })
        }
        Format::Yaml => {
            let de = serde_norway::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let loc = inner
                    .location()
                    .map(|l| format!("line {}, column {}", l.line(), l.column()));
                let msg = strip_yaml_location(&inner.to_string());
                if matches!(path.as_str(), "" | "." | "?") && !is_data_error(&msg) {
                    let at = loc.map(|l| format!(" at {l}")).unwrap_or_default();
                    return Error::invalid(
                        Diagnostic::error("", "syntax", format!("YAML syntax error{at}: {msg}"))
                            .hint("fix the YAML syntax"),
                    );
                }
                from_serde(&path, &msg, || loc)
            })
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let r: std::result::Result<PoolSpec, _> = serde_path_to_error::deserialize(&mut de);
            match r {
                Ok(spec) => de.end().map(|_| spec).map_err(|e| json_syntax(&e)),
                Err(e) => {
                    let path = e.path().to_string();
                    let inner = e.into_inner();
                    if inner.is_syntax() || inner.is_eof() {
                        return Err(json_syntax(&inner));
                    }
                    let msg = strip_json_location(&inner.to_string());
                    Err(from_serde(&path, &msg, || {
                        Some(format!("line {}, column {}", inner.line(), inner.column()))
                    }))
                }
            }
        }
    };
    r
}

/// Parse a spec from an in-memory JSON value (used by the bindings' `from_dict` / `fromJson`).
pub fn parse_value(value: serde_json::Value) -> Result<PoolSpec> {
    value_as(value)
}

/// Deserialize any input type of the crate (simulation options, a synthetic team, ...) from an
/// in-memory JSON value, with the same field-path diagnostics as a spec (`unknown-field` with a
/// "did you mean" hint, `required`, `type`, ...). Used by the bindings for option objects.
pub fn value_as<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        from_serde(&path, &inner.to_string(), || None)
    })
}

/// Read and parse a file; the format comes from the extension unless given.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<PoolSpec> {
    let format = match format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => {
            return Err(Error::invalid(
                Diagnostic::error(
                    "",
                    "format",
                    format!("cannot tell the format of {}", path.display()),
                )
                .hint("use a .toml, .yaml, .yml or .json extension, or pass --format"),
            ));
        }
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_str(&text, format)
}

fn json_syntax(e: &serde_json::Error) -> Error {
    Error::invalid(
        Diagnostic::error(
            "",
            "syntax",
            format!(
                "JSON syntax error at line {}, column {}: {}",
                e.line(),
                e.column(),
                strip_json_location(&e.to_string())
            ),
        )
        .hint("fix the JSON syntax"),
    )
}

fn syntax_error(text: &str, msg: &str, span: Option<std::ops::Range<usize>>) -> Error {
    let at = location(text, span)
        .map(|l| format!(" at {l}"))
        .unwrap_or_default();
    Error::invalid(
        Diagnostic::error(
            "",
            "syntax",
            format!("TOML syntax error{at}: {}", msg.trim()),
        )
        .hint("fix the TOML syntax"),
    )
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let start = span?.start.min(text.len());
    let mut start = start;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    Some(format!("line {line}, column {col}"))
}

fn strip_json_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Whether a serde message is about the data (a field or value) rather than the syntax.
fn is_data_error(msg: &str) -> bool {
    let m = msg
        .split_once(": ")
        .filter(|(p, _)| !p.contains(' '))
        .map_or(msg, |(_, rest)| rest);
    [
        "unknown field",
        "missing field",
        "unknown variant",
        "invalid type",
        "invalid value",
        "invalid length",
        "duplicate field",
    ]
    .iter()
    .any(|p| m.starts_with(p))
}

fn strip_yaml_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Turn a serde message at `path` into a diagnostic with a precise path and rule.
fn from_serde(path: &str, msg: &str, loc: impl FnOnce() -> Option<String>) -> Error {
    let path = if path == "." { "" } else { path };
    let msg = msg.trim();
    // YAML messages start with the (parent) path: drop it, the diagnostic carries the path.
    let msg = match msg.split_once(": ") {
        Some((prefix, rest))
            if !prefix.contains(' ') && (path.starts_with(prefix) || prefix == ".") =>
        {
            rest
        }
        _ => msg,
    };
    let at = loc().map(|l| format!(" ({l})")).unwrap_or_default();
    let join = |field: &str| {
        let field = if field.is_empty() { "\"\"" } else { field };
        if path.is_empty() {
            field.to_string()
        } else if path == field || path.ends_with(&format!(".{field}")) {
            path.to_string()
        } else {
            format!("{path}.{field}")
        }
    };
    let d = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let expected = backticked(rest.split_once(", expected").map(|x| x.1).unwrap_or(""));
        let mut d = Diagnostic::error(
            join(field),
            "unknown-field",
            format!("unknown field `{field}`{at}"),
        );
        d = match closest(field, &expected).filter(|_| !field.is_empty()) {
            Some(c) => d.hint(format!("did you mean `{c}`?")),
            None if !expected.is_empty() => {
                d.hint(format!("expected one of {}", expected.join(", ")))
            }
            None => d.hint("remove it"),
        };
        d
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        Diagnostic::error(
            join(field),
            "required",
            format!("missing required field `{field}`{at}"),
        )
        .hint(format!("add `{field}`"))
    } else if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or("");
        let expected = backticked(rest.split_once(", expected").map(|x| x.1).unwrap_or(""));
        let mut d = Diagnostic::error(
            path,
            "unknown-value",
            format!("unknown value `{value}`{at}"),
        );
        if !expected.is_empty() {
            d = d.hint(format!("expected one of {}", expected.join(", ")));
        }
        d
    } else if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        Diagnostic::error(path, "type", format!("{msg}{at}"))
            .hint("check the value's type against the spec reference (`dsvmpool schema`)")
    } else if msg.starts_with("duplicate key") || msg.starts_with("duplicate field") {
        Diagnostic::error(path, "duplicate-key", format!("{msg}{at}")).hint("write each key once")
    } else {
        Diagnostic::error(path, "parse", format!("{msg}{at}"))
            .hint("check the value against the spec reference (`dsvmpool schema`)")
    };
    Error::invalid(d)
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The candidate nearest to `s` by edit distance, if it is close.
pub(crate) fn closest<'a>(s: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(s, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod value_as_tests {
    use super::*;

    #[test]
    fn option_objects_get_field_path_diagnostics() {
        let e = value_as::<crate::sim::SimOptions>(serde_json::json!({"boot_tme": 1})).unwrap_err();
        let d = &e.validation().unwrap().errors[0];
        assert_eq!(
            (d.path.as_str(), d.rule.as_str()),
            ("boot_tme", "unknown-field")
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean `boot_time`?"));
        let e =
            value_as::<crate::sim::SimOptions>(serde_json::json!({"patience": "x"})).unwrap_err();
        assert_eq!(e.validation().unwrap().errors[0].path, "patience");
        let o: crate::sim::SimOptions = value_as(serde_json::json!({"boot_time": 60})).unwrap();
        assert_eq!(o.boot_time, 60);
    }
}

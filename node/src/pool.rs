//! `Pool`: the JavaScript face of [`dsvmpool::Pool`].

use crate::error::call;
use crate::json::{stringify, to_camel_value, to_js, to_value};
use dsvmpool::Format;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Format of a spec text.
#[napi(string_enum = "lowercase")]
pub enum SpecFormat {
    /// TOML (primary).
    Toml,
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

impl From<SpecFormat> for Format {
    fn from(f: SpecFormat) -> Format {
        match f {
            SpecFormat::Toml => Format::Toml,
            SpecFormat::Yaml => Format::Yaml,
            SpecFormat::Json => Format::Json,
        }
    }
}

/// A parsed (not yet validated) pool spec.
///
/// Every method throws a `DsvmpoolError` (see `isDsvmpoolError`) with a stable `code`.
#[napi]
pub struct Pool {
    pub(crate) inner: dsvmpool::Pool,
}

#[napi]
impl Pool {
    /// Load a spec file; the format comes from the extension (`.toml`, `.yaml`/`.yml`,
    /// `.json`) unless `format` is given. Throws code `IO` when the file cannot be read and
    /// `VALIDATION` when it cannot be parsed.
    #[napi(factory, catch_unwind)]
    pub fn load(env: Env, path: String, format: Option<SpecFormat>) -> Result<Pool> {
        call(&env, || {
            dsvmpool::Pool::load_as(&path, format.map(Format::from)).map(Pool::wrap)
        })
    }

    /// Parse spec text in the given format.
    #[napi(factory, catch_unwind)]
    pub fn parse(env: Env, text: String, format: SpecFormat) -> Result<Pool> {
        call(&env, || {
            dsvmpool::Pool::parse(&text, format.into()).map(Pool::wrap)
        })
    }

    /// Parse TOML text.
    #[napi(factory, catch_unwind)]
    pub fn from_toml(env: Env, text: String) -> Result<Pool> {
        call(&env, || dsvmpool::Pool::from_toml(&text).map(Pool::wrap))
    }

    /// Parse YAML text.
    #[napi(factory, catch_unwind)]
    pub fn from_yaml(env: Env, text: String) -> Result<Pool> {
        call(&env, || dsvmpool::Pool::from_yaml(&text).map(Pool::wrap))
    }

    /// Build from a plain object (as `JSON.parse` returns it) or from JSON text.
    #[napi(factory, catch_unwind, ts_args_type = "spec: PoolSpecInput | string")]
    pub fn from_json(env: Env, spec: Unknown<'_>) -> Result<Pool> {
        if spec.get_type()? == ValueType::String {
            let text: String = String::from_unknown(spec)?;
            return call(&env, || dsvmpool::Pool::from_json(&text).map(Pool::wrap));
        }
        let text = stringify(&env, spec)?.ok_or_else(|| {
            napi::Error::new(
                Status::InvalidArg,
                "spec must be a JSON value (an object or JSON text)",
            )
        })?;
        call(&env, || {
            // Parsed to a value first: errors then carry field paths, not positions in a text
            // the caller never wrote.
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(value) => dsvmpool::Pool::from_value(value),
                // Nested deeper than the parser allows: the core reports it on the text.
                Err(_) => dsvmpool::Pool::from_json(&text),
            }
            .map(Pool::wrap)
        })
    }

    /// The file the spec was loaded from, if any.
    #[napi(getter, catch_unwind)]
    pub fn source(&self) -> Option<String> {
        self.inner.source().map(|p| p.display().to_string())
    }

    /// The parsed spec as a plain object, with the spec's own (snake_case) keys: defaults
    /// filled in, nothing resolved yet. `Pool.fromJson(pool.spec())` gives the same pool.
    #[napi(catch_unwind, ts_return_type = "PoolSpec")]
    pub fn spec<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_js(env, &call(env, || to_value(self.inner.spec()))?)
    }

    /// Validate: returns the warnings, or throws a `DsvmpoolError` with code `VALIDATION`
    /// whose `errors` lists every problem (each with its field `path` and `rule`).
    #[napi(catch_unwind, ts_return_type = "Diagnostic[]")]
    pub fn validate<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let warnings = call(env, || {
            let valid = self.inner.validate()?;
            to_value(valid.warnings())
        })?;
        to_js(env, &warnings)
    }

    /// The offline plan: resources, addresses, autoscale in words, cost at min and max; a plain
    /// JSON-serialisable object (the CLI's `plan --output json` with camelCase keys).
    /// Throws `VALIDATION` when the spec is invalid.
    #[napi(catch_unwind, ts_return_type = "Plan")]
    pub fn plan<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let plan = call(env, || {
            let valid = self.inner.validate()?;
            to_camel_value(&dsvmpool::lifecycle::plan(&valid))
        })?;
        to_js(env, &plan)
    }

    /// The plan as the human-readable text the CLI prints.
    #[napi(catch_unwind)]
    pub fn plan_text(&self, env: Env) -> Result<String> {
        call(&env, || {
            let valid = self.inner.validate()?;
            Ok(dsvmpool::lifecycle::plan(&valid).to_string())
        })
    }
}

impl Pool {
    fn wrap(inner: dsvmpool::Pool) -> Pool {
        Pool { inner }
    }
}

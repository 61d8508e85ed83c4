//! [`Pool`]: the entry point every surface (CLI, Python, Node, C) uses.

use crate::error::Result;
use crate::spec::{self, Format, PoolSpec, ValidPool};
use std::path::{Path, PathBuf};

/// A parsed (not yet validated) pool spec, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    spec: PoolSpec,
    source: Option<PathBuf>,
}

impl Pool {
    /// Load a spec file; the format comes from the extension (`.toml`, `.yaml`/`.yml`, `.json`).
    pub fn load(path: impl AsRef<Path>) -> Result<Pool> {
        Self::load_as(path, None)
    }

    /// Load a spec file in the given format (`None`: from the extension).
    pub fn load_as(path: impl AsRef<Path>, format: Option<Format>) -> Result<Pool> {
        let path = path.as_ref();
        Ok(Pool {
            spec: spec::parse_file(path, format)?,
            source: Some(path.to_path_buf()),
        })
    }

    /// Parse a spec from text.
    pub fn parse(text: &str, format: Format) -> Result<Pool> {
        Ok(Pool {
            spec: spec::parse_str(text, format)?,
            source: None,
        })
    }

    /// Parse TOML text.
    pub fn from_toml(text: &str) -> Result<Pool> {
        Self::parse(text, Format::Toml)
    }

    /// Parse YAML text.
    pub fn from_yaml(text: &str) -> Result<Pool> {
        Self::parse(text, Format::Yaml)
    }

    /// Parse JSON text.
    pub fn from_json(text: &str) -> Result<Pool> {
        Self::parse(text, Format::Json)
    }

    /// Build from an in-memory JSON value (a Python dict, a JS object).
    pub fn from_value(value: serde_json::Value) -> Result<Pool> {
        Ok(Pool {
            spec: spec::parse_value(value)?,
            source: None,
        })
    }

    /// Wrap an already-built spec.
    pub fn from_spec(spec: PoolSpec) -> Pool {
        Pool { spec, source: None }
    }

    /// The parsed spec.
    pub fn spec(&self) -> &PoolSpec {
        &self.spec
    }

    /// The file it was loaded from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Validate: every problem at once, or a [`ValidPool`] with warnings.
    pub fn validate(&self) -> Result<ValidPool> {
        spec::validate(&self.spec)
    }
}

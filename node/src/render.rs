//! Rendering: `Pool.render` and `Pool.renderToDir`.

use crate::error::call;
use crate::json::{camel_keys_except, to_js, to_value};
use crate::pool::Pool;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Options of `render` (every field optional).
#[napi(object)]
pub struct RenderOptions {
    /// Put `metadata._generator` (dsvmpool and its version) into the template (default true).
    pub generator_metadata: Option<bool>,
    /// `forceUpdateTag` of the scale set's extensions: change it to run them again on every
    /// instance (default: none).
    pub force_update_tag: Option<String>,
}

fn core_options(o: Option<RenderOptions>) -> dsvmpool::render::RenderOptions {
    let mut opts = dsvmpool::render::RenderOptions::default();
    if let Some(o) = o {
        if let Some(on) = o.generator_metadata {
            opts = opts.generator_metadata(on);
        }
        if let Some(tag) = o.force_update_tag {
            opts = opts.force_update_tag(tag);
        }
    }
    opts
}

/// Documents embedded in the artifacts: their keys stay as Azure spells them.
const DOCUMENTS: [&str; 2] = ["template", "parameters"];

#[napi]
impl Pool {
    /// Render the pool: the ARM template and parameters file (objects, as Azure reads them),
    /// the cloud-init user data, the provisioning files, the secure parameters the deploy fills
    /// from the environment, and the resource names. Pure: no I/O, no secret. Throws
    /// `VALIDATION` for an invalid spec and `RENDER` for what Azure would reject.
    #[napi(catch_unwind, ts_return_type = "Artifacts")]
    pub fn render<'env>(
        &self,
        env: &'env Env,
        options: Option<RenderOptions>,
    ) -> Result<Unknown<'env>> {
        let art = call(env, || {
            let valid = self.inner.validate()?;
            let art = dsvmpool::render::render(&valid, &core_options(options))?;
            to_value(&art).map(|v| camel_keys_except(v, &DOCUMENTS))
        })?;
        to_js(env, &art)
    }

    /// Render and write every file (`azuredeploy.json`, `azuredeploy.parameters.json` and the
    /// provisioning files) into `dir`, created if missing; all files or none. Returns the paths
    /// written. Throws `IO` when a file cannot be written.
    #[napi(catch_unwind)]
    pub fn render_to_dir(
        &self,
        env: Env,
        dir: String,
        options: Option<RenderOptions>,
    ) -> Result<Vec<String>> {
        call(&env, || {
            let valid = self.inner.validate()?;
            let art = dsvmpool::render::render(&valid, &core_options(options))?;
            Ok(art
                .write_to(&dir)?
                .into_iter()
                .map(|p| p.display().to_string())
                .collect())
        })
    }
}

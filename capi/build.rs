//! Generates `include/dsvmpool.h` with cbindgen (pinned build-dependency), adding the version
//! macros. The file is rewritten only when its content changes; CI diffs it against git.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    // tests/c_suite.rs rebuilds libdsvmpool.{so,a} for the same target as itself.
    let target = std::env::var("TARGET").expect("TARGET");
    println!("cargo:rustc-env=DSVMPOOL_BUILD_TARGET={target}");

    let version = std::env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION");
    let part = |name: &str| std::env::var(name).expect(name);
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("capi/cbindgen.toml");
    config.after_includes = Some(format!(
        "\n/* Version of this header; dsvmpool_version() gives the library's at run time. */\n\
         #define DSVMPOOL_VERSION \"{version}\"\n\
         #define DSVMPOOL_VERSION_MAJOR {}\n\
         #define DSVMPOOL_VERSION_MINOR {}\n\
         #define DSVMPOOL_VERSION_PATCH {}\n\
         #define DSVMPOOL_VERSION_NUMBER \\\n    \
         ((DSVMPOOL_VERSION_MAJOR * 1000000) + (DSVMPOOL_VERSION_MINOR * 1000) + DSVMPOOL_VERSION_PATCH)\n\n\
         /* Free and set to NULL, so that a second free is a harmless free(NULL). */\n\
         #define DSVMPOOL_POOL_CLEAR(p) do {{ dsvmpool_pool_free(p); (p) = NULL; }} while (0)\n\
         #define DSVMPOOL_ERROR_CLEAR(e) do {{ dsvmpool_error_free(e); (e) = NULL; }} while (0)\n\
         #define DSVMPOOL_STRING_CLEAR(s) do {{ dsvmpool_string_free(s); (s) = NULL; }} while (0)\n\
         #define DSVMPOOL_TRACE_CLEAR(t) do {{ dsvmpool_trace_free(t); (t) = NULL; }} while (0)",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    ));
    match cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
    {
        // `write_to_file` leaves the file untouched when the content is the same.
        Ok(bindings) => {
            bindings.write_to_file(dir.join("include").join("dsvmpool.h"));
        }
        // A syntax error mid-edit: rustc reports the real error.
        Err(e) => println!("cargo:warning=cbindgen: {e}"),
    }
}

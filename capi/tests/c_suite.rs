//! Drives the C test programs in `capi/tests/*.c`: compiles each with
//! `gcc -std=c11 -Wall -Wextra -Werror -Wpedantic` against the `libdsvmpool.so` and
//! `libdsvmpool.a` cargo just built, and runs it dynamically linked, statically linked, and
//! dynamically linked under `valgrind --error-exitcode=1 --leak-check=full`.
//!
//! valgrind is required; set `DSVMPOOL_SKIP_VALGRIND=1` to skip those runs on a machine
//! without it (CI installs it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Native libraries a Rust staticlib needs on linux-gnu (`--print native-static-libs`).
const NATIVE_STATIC_LIBS: &[&str] = &[
    "-lgcc_s",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

fn capi_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_dir() -> PathBuf {
    capi_dir().join("..")
}

/// Where cargo puts libdsvmpool.{so,a}: the profile directory above this test's `deps/`.
///
/// `cargo test` builds only linkable (rlib) libraries for integration tests, and this crate is
/// cdylib + staticlib, so the first call runs `cargo build` for the same target directory,
/// target and profile as this test (a no-op when they are fresh).
fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("current_exe");
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>")
                .to_path_buf();
            let profile = dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("profile dir name");
            let parent = dir.parent().expect("target dir");
            let target = env!("DSVMPOOL_BUILD_TARGET");
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "-p", "dsvmpool-capi", "--lib"]);
            cargo
                .arg("--profile")
                .arg(if profile == "debug" { "dev" } else { profile });
            if parent.file_name().is_some_and(|n| n == target) {
                cargo
                    .args(["--target", target])
                    .arg("--target-dir")
                    .arg(parent.parent().expect("root"));
            } else {
                cargo.arg("--target-dir").arg(parent);
            }
            run(cargo.current_dir(capi_dir()));
            for lib in ["libdsvmpool.so", "libdsvmpool.a"] {
                assert!(
                    dir.join(lib).is_file(),
                    "{} not built",
                    dir.join(lib).display()
                );
            }
            dir
        })
        .clone()
}

fn out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capi-tests")
}

fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    print!("{stdout}");
    stdout
}

#[derive(Clone, Copy)]
enum Link {
    Dynamic,
    Static,
}

/// Compile `capi/tests/<name>.c`, linked as asked; returns the executable.
fn compile(name: &str, link: Link) -> PathBuf {
    let lib = lib_dir();
    let out = out_dir();
    std::fs::create_dir_all(&out).expect("mkdir");
    let suffix = match link {
        Link::Dynamic => "dyn",
        Link::Static => "static",
    };
    let exe = out.join(format!("{name}_{suffix}"));
    let mut gcc = Command::new("gcc");
    gcc.args([
        "-std=c11",
        "-g",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wpedantic",
        "-pthread",
    ])
    .arg("-I")
    .arg(capi_dir().join("include"))
    .arg(capi_dir().join("tests").join(format!("{name}.c")))
    .arg("-o")
    .arg(&exe);
    match link {
        Link::Dynamic => {
            gcc.arg("-L")
                .arg(&lib)
                .arg("-ldsvmpool")
                .arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        Link::Static => {
            gcc.arg(lib.join("libdsvmpool.a")).args(NATIVE_STATIC_LIBS);
        }
    }
    run(&mut gcc);
    if let Link::Static = link {
        let ldd = Command::new("ldd").arg(&exe).output().expect("ldd");
        let deps = String::from_utf8_lossy(&ldd.stdout);
        assert!(
            !deps.contains("libdsvmpool"),
            "static build links libdsvmpool.so:\n{deps}"
        );
    }
    exe
}

fn valgrind_wanted() -> bool {
    if std::env::var_os("DSVMPOOL_SKIP_VALGRIND").is_some_and(|v| v == "1") {
        eprintln!("DSVMPOOL_SKIP_VALGRIND=1: valgrind runs skipped");
        return false;
    }
    true
}

fn valgrind(exe: &Path, args: &[&Path]) -> String {
    run(Command::new("valgrind")
        .args([
            "-q",
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=all",
        ])
        .arg(exe)
        .args(args))
}

fn assert_all_passed(out: &str, suite: &str) {
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{suite}: ")) && l.ends_with(" 0 failed")),
        "no passing summary from {suite}:\n{out}"
    );
}

/// The arguments of test_api: a valid spec, one whose scale set gets an extension, and a fresh
/// scratch directory named after the run.
fn api_args(run: &str) -> Vec<PathBuf> {
    let scratch = out_dir().join(format!("scratch-{run}"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("mkdir scratch");
    vec![
        repo_dir().join("examples/team.toml"),
        repo_dir().join("tests/fixtures/specs/valid/smb-account-key-created.toml"),
        scratch,
    ]
}

/// The manifest test_fixtures reads, written from the shared golden fixtures.
fn manifest() -> PathBuf {
    #[derive(serde::Deserialize)]
    struct Expected {
        paths: Vec<String>,
        rules: Vec<String>,
    }
    let specs = repo_dir().join("tests/fixtures/specs");
    let invalid = specs.join("invalid");
    let text = std::fs::read_to_string(invalid.join("expected.json")).expect("expected.json");
    let expected: BTreeMap<String, Expected> = serde_json::from_str(&text).expect("expected.json");
    assert!(
        expected.len() >= 150,
        "only {} invalid fixtures",
        expected.len()
    );
    let mut m = String::new();
    for (file, want) in &expected {
        let path = invalid.join(file);
        assert!(
            path.is_file(),
            "{} listed in expected.json but missing",
            path.display()
        );
        for s in want.paths.iter().chain(&want.rules) {
            assert!(!s.contains(['\t', '\n', '\x1f']), "{file}: {s:?}");
        }
        writeln!(
            m,
            "invalid\t{}\t{}\t{}",
            path.display(),
            want.paths.join("\x1f"),
            want.rules.join("\x1f")
        )
        .unwrap();
    }
    let mut valid: Vec<PathBuf> = std::fs::read_dir(specs.join("valid"))
        .expect("valid/")
        .map(|e| e.expect("entry").path())
        .collect();
    valid.sort();
    assert!(valid.len() >= 10);
    for path in valid {
        writeln!(m, "valid\t{}", path.display()).unwrap();
    }
    std::fs::create_dir_all(out_dir()).expect("mkdir");
    let file = out_dir().join("fixtures.manifest");
    std::fs::write(&file, m).expect("write manifest");
    file
}

#[test]
fn api_dynamic() {
    let out = run(Command::new(compile("test_api", Link::Dynamic)).args(api_args("dynamic")));
    assert_all_passed(&out, "test_api");
}

#[test]
fn api_static() {
    let out = run(Command::new(compile("test_api", Link::Static)).args(api_args("static")));
    assert_all_passed(&out, "test_api");
}

#[test]
fn api_under_valgrind() {
    if valgrind_wanted() {
        let exe = compile("test_api", Link::Dynamic);
        let args = api_args("valgrind");
        let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        assert_all_passed(&valgrind(&exe, &args), "test_api");
    }
}

#[test]
fn fixtures_dynamic() {
    let out = run(Command::new(compile("test_fixtures", Link::Dynamic)).arg(manifest()));
    assert_all_passed(&out, "test_fixtures");
}

#[test]
fn fixtures_static() {
    let out = run(Command::new(compile("test_fixtures", Link::Static)).arg(manifest()));
    assert_all_passed(&out, "test_fixtures");
}

#[test]
fn fixtures_under_valgrind() {
    if valgrind_wanted() {
        let exe = compile("test_fixtures", Link::Dynamic);
        assert_all_passed(&valgrind(&exe, &[&manifest()]), "test_fixtures");
    }
}

/// The header is valid C99 and C++ (extern "C" guards), on its own.
#[test]
fn header_compiles_as_c99_and_cplusplus() {
    let out = out_dir();
    std::fs::create_dir_all(&out).expect("mkdir");
    let src = out.join("header_only.c");
    std::fs::write(
        &src,
        "#include <dsvmpool.h>\n#include <dsvmpool.h>\nint main(void) { return dsvmpool_version() == 0; }\n",
    )
    .expect("write");
    for (cc, std) in [("gcc", "-std=c99"), ("g++", "-std=c++11")] {
        let mut cmd = Command::new(cc);
        cmd.args([
            std,
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wpedantic",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(capi_dir().join("include"));
        if cc == "g++" {
            cmd.args(["-x", "c++"]);
        }
        run(cmd.arg(&src));
    }
}

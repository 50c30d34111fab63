//! Every fixture's output, and (when present) Box's full official spec with every
//! operation selected, is compiled and linted with `clippy -D warnings`: a snapshot
//! of code that does not compile would guard nothing.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{fixtures, generate_fixture, workspace_root};
use oas_codegen::{Config, Input, generate};

/// Writes a crate holding one module per output, and runs clippy on it. It shares
/// the workspace's lock file, profile and target folder, so dependencies are
/// already built and nothing is fetched.
fn clippy_crate(name: &str, modules: &[(String, oas_codegen::Output)]) {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = target.join("codegen-tests").join(name);
    let _ = std::fs::remove_dir_all(dir.join("src"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
oas-runtime = {{ path = {runtime:?} }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["preserve_order"] }}
chrono = {{ version = "0.4", default-features = false, features = ["std", "clock", "serde"] }}

[profile.dev.package."*"]
opt-level = 2

[workspace]
"#,
        runtime = root.join("runtime").display().to_string(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let mut lib = String::from("//! Generated code under test.\n#![deny(warnings)]\n");
    for (module, output) in modules {
        let module_dir = dir.join("src").join(module);
        std::fs::create_dir_all(&module_dir).unwrap();
        for (file, text) in &output.files {
            std::fs::write(module_dir.join(file), text).unwrap();
        }
        lib.push_str(&format!("pub mod {module};\n"));
    }
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "clippy",
            "--quiet",
            "--offline",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "clippy failed on {}:\n{stderr}",
        dir.display()
    );
    assert!(
        !stderr.contains("warning"),
        "warnings in {}:\n{stderr}",
        dir.display()
    );
}

#[test]
fn fixture_outputs_compile_without_warnings() {
    let modules: Vec<(String, oas_codegen::Output)> = fixtures()
        .into_iter()
        .map(|(name, path)| (name, generate_fixture(&path)))
        .collect();
    clippy_crate("fixtures", &modules);
}

#[test]
#[ignore = "compiles ~58,000 lines; run with --ignored (CI does)"]
fn full_box_spec_compiles_without_warnings() {
    let Some(spec) = common::box_spec() else {
        println!("skipped: ../shared/box-openapi/openapi.json is not there");
        return;
    };
    let output = generate(&Input {
        spec: spec.clone(),
        config: Config::select_all(),
        spec_label: "openapi.json".into(),
    })
    .unwrap();
    assert!(
        output.api.operations.len() >= 250,
        "{} operations",
        output.api.operations.len()
    );
    clippy_crate("box_full", &[("box_full".into(), output)]);
}

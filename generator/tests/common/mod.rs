//! Helpers shared by the generator's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use oas_codegen::{Config, Input, Output, generate};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The fixture specs, sorted, as (name, path).
pub fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

/// Generates a fixture with every operation selected, or with the config beside it
/// (`NAME.toml`) when there is one.
pub fn generate_fixture(path: &Path) -> Output {
    let toml = path.with_extension("toml");
    let mut config = if toml.exists() {
        Config::load(&toml).unwrap()
    } else {
        Config::select_all()
    };
    config.dir = path.parent().unwrap().to_owned();
    let input = Input {
        spec: path.to_owned(),
        config,
        spec_label: format!("fixtures/{}", path.file_name().unwrap().to_string_lossy()),
    };
    generate(&input).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// All files of an output, each under a `// ==== name ====` line.
pub fn concat(output: &Output) -> String {
    output
        .files
        .iter()
        .map(|(name, text)| format!("// ==== {name} ====\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text without comment lines (`//`, `///`, `//!`): what is left is the Rust API.
pub fn strip_comments(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Box's official spec, when `../shared` is beside the project.
pub fn box_spec() -> Option<PathBuf> {
    let path = workspace_root().join("../shared/box-openapi/openapi.json");
    path.exists().then_some(path)
}

/// Writes a crate holding one module per output, and runs clippy on it. It shares
/// the workspace's lock file, profile and target folder, so dependencies are
/// already built and nothing is fetched.
pub fn clippy_crate(name: &str, modules: &[(String, oas_codegen::Output)]) {
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

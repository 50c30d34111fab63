//! Helpers shared by the generator's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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

/// Generates a fixture with every operation selected.
pub fn generate_fixture(path: &Path) -> Output {
    let mut config = Config::select_all();
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

//! The child side of `cargo xtask corpus`: generate one spec, print one JSON line.
//!
//! Each spec is generated in its own process (`xtask corpus-one SPEC`), so a panic, a
//! stack overflow or a hang costs that spec only, and the parent can kill it at its
//! time limit.

use std::path::Path;
use std::time::Instant;

use oas_codegen::{Config, Error, Input, Output, generate};
use serde_json::{Value, json};

use crate::codegen::Failure;

/// Runs `corpus-one SPEC`: prints the outcome of generating SPEC with every operation
/// selected, as one JSON object (see [`outcome_json`]).
pub fn run(args: &[String]) -> Result<(), Failure> {
    let [spec] = args else {
        return Err(Failure::Usage("corpus-one takes one spec path".into()));
    };
    let started = Instant::now();
    let strict = generate_spec(Path::new(spec), false);
    let millis = started.elapsed().as_millis() as u64;
    let mut outcome = outcome_json(&strict, millis);
    // A spec that breaks OpenAPI: would the lenient reading generate it?
    if let Err(e) = &strict
        && e.kind() == oas_codegen::ErrorKind::InvalidSpec
    {
        let lenient = generate_spec(Path::new(spec), true);
        outcome["lenient"] = json!({
            "ok": lenient.is_ok(),
            "warnings": lenient.as_ref().map_or(0, |o| o.warnings.len()),
        });
    }
    println!("{outcome}");
    Ok(())
}

/// Generates `spec` with every operation selected.
pub fn generate_spec(spec: &Path, lenient: bool) -> Result<Output, Error> {
    let mut config = Config::select_all();
    config.lenient = lenient;
    generate(&Input {
        spec: spec.to_owned(),
        config,
        spec_label: spec
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    })
}

/// `{"ok": true, "millis", "operations", "types", "lines", "warnings"}` or
/// `{"ok": false, "millis", "kind", "pointer", "message"}`, where `message` is the
/// error without the file and pointer.
fn outcome_json(result: &Result<Output, Error>, millis: u64) -> Value {
    match result {
        Ok(output) => json!({
            "ok": true,
            "millis": millis,
            "operations": output.api.operations.len(),
            "types": output.api.types.len(),
            "lines": output.files.values().map(|f| f.lines().count()).sum::<usize>(),
            "warnings": output.warnings.len(),
        }),
        Err(e) => json!({
            "ok": false,
            "millis": millis,
            "kind": e.kind().as_str(),
            "pointer": e.pointer(),
            "message": detail(e),
        }),
    }
}

/// The error's message without the file and the pointer that open it.
fn detail(error: &Error) -> String {
    let text = error.to_string();
    let rest = text
        .split_once(": ")
        .map_or(text.as_str(), |(_, rest)| rest);
    match error.pointer() {
        Some(pointer) => {
            for prefix in [
                format!("breaks OpenAPI at {pointer}: "),
                format!("at {pointer}: "),
            ] {
                if let Some(what) = rest.strip_prefix(&prefix) {
                    return what.to_owned();
                }
            }
            rest.to_owned()
        }
        None => rest.to_owned(),
    }
}

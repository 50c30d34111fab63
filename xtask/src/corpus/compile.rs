//! `cargo xtask corpus --compile N`: N of the generated crates, built under `clippy -D
//! warnings` in one workspace whose target folder is the project's, so the runtime and
//! the other dependencies are built once.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Outcome, SpecResult, worker};
use crate::bench::thousands;
use crate::codegen::{Failure, io_error, workspace_root, write};
use crate::scaffold;

/// What the compiled sample showed.
pub struct Compiled {
    /// The crates built, by package name, with their spec.
    pub crates: Vec<(String, String)>,
    /// Lines of generated Rust in them.
    pub lines: u64,
    /// Wall time of the clippy run.
    pub elapsed: Duration,
    /// The crates that did not build cleanly.
    pub failures: Vec<String>,
}

impl Compiled {
    /// The report's section.
    pub fn render(&self, out: &mut String) {
        let verdict = if self.failures.is_empty() {
            "every one clean ✅".to_owned()
        } else {
            format!("not clean ❌: {}", self.failures.join(", "))
        };
        let _ = writeln!(
            out,
            "## Compiled\n\n{} generated crates (the first of the run with at most {} lines; {} \
             lines in all) under `cargo clippy --all-targets -- -D \
             warnings` in {:.1} s: {verdict}.\n",
            self.crates.len(),
            thousands(MAX_LINES),
            thousands(self.lines),
            self.elapsed.as_secs_f64()
        );
        for (name, spec) in &self.crates {
            let _ = writeln!(out, "- `{name}` from `{spec}`");
        }
        let _ = writeln!(out);
    }
}

/// The biggest generated crate the compiled sample takes: a few of the directory's
/// specs give 100,000 lines and more, which would take the sample's time alone.
const MAX_LINES: u64 = 12_000;

/// Builds the first `wanted` specs of `results` that generated (up to [`MAX_LINES`]).
pub fn compile(
    api: &Path,
    results: &[SpecResult],
    wanted: usize,
    home: &Path,
) -> Result<Compiled, Failure> {
    let root = workspace_root();
    let dir = home.join("compile");
    let crates_dir = dir.join("crates");
    let _ = std::fs::remove_dir_all(&crates_dir);
    let runtime = std::fs::canonicalize(root.join("runtime"))
        .map_err(|e| io_error(&root.join("runtime"), e))?;
    let mut crates = Vec::new();
    let mut lines = 0;
    let chosen = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Generated { lines, .. } if lines <= MAX_LINES))
        .take(wanted);
    for result in chosen {
        let output = worker::generate_spec(&api.join(&result.spec), false).map_err(|e| {
            Failure::Error(format!("{} generated once, then not: {e}", result.spec))
        })?;
        let stem = result.spec.trim_end_matches(".json");
        let mut name = scaffold::crate_name_from_folder(stem);
        if crates.iter().any(|(n, _)| *n == name) {
            name.push_str(&format!("-{}", crates.len()));
        }
        let crate_dir = crates_dir.join(&name);
        write(&crate_dir.join("src/generated"), &output.files)?;
        let manifest = crate_dir.join("Cargo.toml");
        std::fs::write(&manifest, scaffold::manifest(&name, &runtime, false))
            .map_err(|e| io_error(&manifest, e))?;
        let lib = crate_dir.join("src/lib.rs");
        std::fs::write(&lib, scaffold::LIB_RS).map_err(|e| io_error(&lib, e))?;
        lines += output
            .files
            .values()
            .map(|f| f.lines().count() as u64)
            .sum::<u64>();
        crates.push((name, result.spec.clone()));
    }
    // The project's profile for dependencies, so their builds are shared with it.
    let workspace = "[workspace]\nresolver = \"3\"\nmembers = [\"crates/*\"]\n\n\
                     [profile.dev.package.\"*\"]\nopt-level = 2\n";
    let manifest = dir.join("Cargo.toml");
    std::fs::write(&manifest, workspace).map_err(|e| io_error(&manifest, e))?;
    let lock = dir.join("Cargo.lock");
    std::fs::copy(root.join("Cargo.lock"), &lock).map_err(|e| io_error(&lock, e))?;

    eprintln!("==> clippy on {} generated crates", crates.len());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args([
            "clippy",
            "--offline",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--keep-going",
            "--",
            "-D",
            "warnings",
        ])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .map_err(|e| Failure::Error(format!("cannot run cargo clippy: {e}")))?;
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut failures: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split("could not compile `").nth(1))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    failures.sort();
    failures.dedup();
    if !output.status.success() || stderr.contains("warning") {
        eprintln!("{stderr}");
        if failures.is_empty() {
            failures.push(format!("cargo clippy failed ({})", output.status));
        }
    }
    Ok(Compiled {
        crates,
        lines,
        elapsed,
        failures,
    })
}

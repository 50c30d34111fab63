//! `cargo xtask test`: set up what the tests need on a fresh machine, then run them all.
//!
//! 1. Node.js and npm (Debian packages, when missing and we may install them), and
//!    Prism from `tests/contract/package-lock.json`.
//! 2. `cargo test --workspace`.
//! 3. The full official Box spec, generated and compiled under clippy (an `#[ignore]`d
//!    test: it is the slowest one).
//! 4. `spec/check_facts.py`: our spec states Box's facts in our own words.
//! 5. `cargo xtask corpus --sample 50 --compile 20`: the generator on a fixed sample
//!    of public APIs (the APIs-guru directory, from npm), 20 of them compiled.

use std::path::Path;
use std::process::Command;

use crate::codegen::{Failure, workspace_root};

/// Runs the command.
pub fn run(args: &[String]) -> Result<(), Failure> {
    if let Some(arg) = args.first() {
        return Err(Failure::Usage(format!(
            "`test` takes no options (got {arg:?})"
        )));
    }
    let root = workspace_root();
    ensure_node()?;
    ensure_prism(&root.join("tests/contract"))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    step(
        "cargo test --workspace",
        Command::new(&cargo)
            .args(["test", "--workspace"])
            .current_dir(&root),
    )?;
    step(
        "full Box spec: generate and compile",
        Command::new(&cargo)
            .args([
                "test",
                "-p",
                "oas-codegen",
                "--test",
                "compile",
                "--",
                "--ignored",
            ])
            .current_dir(&root),
    )?;
    if root.join("../shared/box-openapi/openapi.json").exists() {
        ensure_python_modules()?;
        step(
            "spec facts check",
            Command::new("python3")
                .arg("spec/check_facts.py")
                .current_dir(&root),
        )?;
    } else {
        eprintln!("skipped the spec facts check: ../shared/box-openapi/openapi.json is not there");
    }
    // Through cargo, not in this process: `cargo test --workspace` above relinks
    // target/debug/xtask with the workspace's features, so this process's executable is
    // gone and the corpus could not start its child processes from it.
    step(
        "corpus: a fixed sample of public APIs, generated and compiled",
        Command::new(&cargo)
            .args(["run", "--quiet", "-p", "xtask", "--", "corpus"])
            .args(["--sample", "50", "--compile", "20"])
            .current_dir(&root),
    )?;
    eprintln!("xtask test: all passed");
    Ok(())
}

/// Runs a command to completion, its output passing through; fails unless it succeeds.
pub(crate) fn step(name: &str, command: &mut Command) -> Result<(), Failure> {
    eprintln!("==> {name}");
    let status = command.status().map_err(|e| {
        Failure::Error(format!(
            "{name}: cannot start {:?}: {e}",
            command.get_program()
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Error(format!("{name} failed ({status})")))
    }
}

fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Node.js and npm run Prism for the contract tests.
fn ensure_node() -> Result<(), Failure> {
    if works("npm", &["--version"]) && works("node", &["--version"]) {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !(is_root && works("apt-get", &["--version"])) {
        return Err(Failure::Error(
            "the contract tests need Node.js and npm; install them (e.g. `apt-get install nodejs npm`) and run again".into(),
        ));
    }
    step(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    step(
        "apt-get install nodejs npm",
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "nodejs",
                "npm",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Prism, pinned by the lock file, into a local `node_modules`.
fn ensure_prism(dir: &Path) -> Result<(), Failure> {
    if dir.join("node_modules/.bin/prism").exists() {
        return Ok(());
    }
    step(
        "npm ci (Prism, for the contract tests)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
    )
}

/// What `spec/check_facts.py` imports: PyYAML, and a TOML reader (`tomllib` is in
/// Python 3.11+; `tomli` before that).
fn ensure_python_modules() -> Result<(), Failure> {
    if !works("python3", &["-c", "import yaml"]) {
        step(
            "pip install pyyaml",
            Command::new("python3").args(["-m", "pip", "install", "--quiet", "pyyaml"]),
        )?;
    }
    if !works("python3", &["-c", "import tomllib"]) && !works("python3", &["-c", "import tomli"]) {
        step(
            "pip install tomli",
            Command::new("python3").args(["-m", "pip", "install", "--quiet", "tomli"]),
        )?;
    }
    Ok(())
}

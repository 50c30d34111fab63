//! `cargo xtask codegen`: run the generator and write (or check) `generated/`, then
//! report what the run did to the public Rust API (see `api_report`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oas_codegen::report::Summary;
use oas_codegen::{Config, Input, display_path, generate};

use crate::api_report::{self, SUMMARY_FILE};
use crate::scaffold;

/// Why the command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong.
    Usage(String),
    /// `--check` found differences (already printed).
    Stale,
    /// Anything else, with its message.
    Error(String),
}

/// Parsed options.
#[derive(Debug, Default)]
pub struct Args {
    spec: Option<PathBuf>,
    config: Option<PathBuf>,
    out: Option<PathBuf>,
    crate_name: Option<String>,
    report: Option<PathBuf>,
    check: bool,
}

impl Args {
    /// Parses `--spec PATH --config PATH --out DIR --crate-name NAME --report FILE
    /// --check` (also
    /// `--flag=value`).
    pub fn parse(args: &[String]) -> Result<Args, Failure> {
        let mut parsed = Args::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| -> Result<PathBuf, Failure> {
                inline
                    .clone()
                    .or_else(|| iter.next().cloned())
                    .map(PathBuf::from)
                    .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
            };
            match flag {
                "--spec" => parsed.spec = Some(value("--spec")?),
                "--config" => parsed.config = Some(value("--config")?),
                "--out" => parsed.out = Some(value("--out")?),
                "--crate-name" => {
                    let name = value("--crate-name")?.to_string_lossy().into_owned();
                    crate::scaffold::check_crate_name(&name).map_err(|reason| {
                        Failure::Usage(format!("--crate-name {name:?} {reason}"))
                    })?;
                    parsed.crate_name = Some(name);
                }
                "--report" => parsed.report = Some(value("--report")?),
                "--check" => parsed.check = true,
                other => return Err(Failure::Usage(format!("unknown option {other:?}"))),
            }
        }
        Ok(parsed)
    }
}

/// The workspace root (the xtask crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs the command.
pub fn run(args: &Args) -> Result<(), Failure> {
    let root = workspace_root();
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| root.join("spec/codegen.toml"));
    let config = Config::load(&config_path).map_err(|e| Failure::Error(e.to_string()))?;
    let spec = match (&args.spec, &config.spec) {
        (Some(spec), _) => spec.clone(),
        (None, Some(spec)) => config.dir.join(spec),
        (None, None) => {
            return Err(Failure::Usage(format!(
                "no spec: pass --spec or set `spec` in {}",
                config_path.display()
            )));
        }
    };
    let out = args.out.clone().unwrap_or_else(|| root.join("generated"));
    let input = Input {
        spec_label: display_path(&spec, &root),
        spec,
        config,
    };
    let output = generate(&input).map_err(|e| Failure::Error(e.to_string()))?;
    for warning in &output.warnings {
        eprintln!("{warning}");
    }
    let dir = out.join("src/generated");
    let summary_path = out.join(SUMMARY_FILE);
    // The previous API is what the last run wrote: read it before writing anything.
    let previous = api_report::read_previous(&summary_path);
    let summary = Summary::of(&output.api);
    let summary_json = summary.to_json();
    let stale = if args.check {
        let mut stale = check(&dir, &output.files)?;
        if std::fs::read_to_string(&summary_path).ok().as_deref() != Some(&summary_json) {
            stale.push(SUMMARY_FILE.to_owned());
        }
        stale
    } else {
        write(&dir, &output.files)?;
        scaffold_crate(&root, &out, args.crate_name.as_deref())?;
        write_if_changed(&summary_path, &summary_json)?;
        eprintln!(
            "wrote {} files to {} and {} ({} operations, {} types)",
            output.files.len(),
            dir.display(),
            summary_path.display(),
            output.api.operations.len(),
            output.api.types.len()
        );
        Vec::new()
    };
    let report = api_report::report(&previous, &summary);
    print!("{}", report.text);
    if let Some(path) = &args.report {
        std::fs::write(path, &report.markdown).map_err(|e| io_error(path, e))?;
        eprintln!("wrote the API report to {}", path.display());
    }
    if !args.check {
        return Ok(());
    }
    if stale.is_empty() {
        eprintln!("{} is up to date", out.display());
        Ok(())
    } else {
        eprintln!(
            "error: {} is stale ({}); run `cargo xtask codegen`",
            out.display(),
            stale.join(", ")
        );
        Err(Failure::Stale)
    }
}

/// Writes `contents` to `path` unless it holds them already (so its mtime stays).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), Failure> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(contents) {
        std::fs::write(path, contents).map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

/// An I/O error on `path`, as a failure that names it.
pub(crate) fn io_error(path: &Path, e: std::io::Error) -> Failure {
    Failure::Error(format!("{}: {e}", path.display()))
}

/// Writes the files and removes generated files that are no longer produced.
pub(crate) fn write(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    for (name, contents) in files {
        write_if_changed(&dir.join(name), contents)?;
    }
    for stale in existing_files(dir)?
        .into_iter()
        .filter(|name| !files.contains_key(name))
    {
        let path = dir.join(&stale);
        std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
    }
    Ok(())
}

/// A crate around the generated module, for an output folder that has none yet: named
/// `crate_name`, else after the folder (made a valid package name).
fn scaffold_crate(root: &Path, out: &Path, crate_name: Option<&str>) -> Result<(), Failure> {
    let manifest = out.join("Cargo.toml");
    if manifest.exists() {
        return Ok(());
    }
    let runtime = std::fs::canonicalize(root.join("runtime"))
        .map_err(|e| io_error(&root.join("runtime"), e))?;
    let name = match crate_name {
        Some(name) => name.to_owned(),
        None => {
            let folder = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_owned());
            let folder = folder.file_name().map(|n| n.to_string_lossy().into_owned());
            scaffold::crate_name_from_folder(&folder.unwrap_or_default())
        }
    };
    let toml = scaffold::manifest(&name, &runtime, true);
    std::fs::write(&manifest, toml).map_err(|e| io_error(&manifest, e))?;
    let lib = out.join("src/lib.rs");
    if !lib.exists() {
        std::fs::write(&lib, scaffold::LIB_RS).map_err(|e| io_error(&lib, e))?;
    }
    Ok(())
}

fn existing_files(dir: &Path) -> Result<Vec<String>, Failure> {
    let mut names = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| io_error(dir, e))?;
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(dir, e)),
    }
    names.sort();
    Ok(names)
}

/// Compares the files on disk with fresh output, prints a unified diff of each
/// difference, and returns the names of the stale files.
fn check(dir: &Path, files: &BTreeMap<String, String>) -> Result<Vec<String>, Failure> {
    let mut stale = Vec::new();
    for (name, fresh) in files {
        let path = dir.join(name);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if &current != fresh {
            let diff = similar::TextDiff::from_lines(current.as_str(), fresh.as_str());
            let on_disk = format!("{} (on disk)", path.display());
            let generated = format!("{} (generated)", path.display());
            print!(
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&on_disk, &generated)
            );
            stale.push(name.clone());
        }
    }
    for extra in existing_files(dir)?
        .into_iter()
        .filter(|name| !files.contains_key(name))
    {
        println!("{} is not generated any more", dir.join(&extra).display());
        stale.push(extra);
    }
    stale.sort();
    Ok(stale)
}

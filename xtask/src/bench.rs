//! `cargo xtask bench`: measure codegen, the generated crate and uploads; print one table
//! and write it to `BENCHMARKS.md`.
//!
//! - Codegen is timed in process by criterion (`generator/benches/codegen.rs`); the
//!   medians are read from its `estimates.json`.
//! - Whole programs (cargo builds, the upload client, the emulator) are timed here, each
//!   as a child process: wall time from spawn to exit, CPU time and peak RSS from the
//!   kernel's accounting of that one child (`wait4`).
//! - `--smoke` runs everything at tiny sizes in the dev profile (what `cargo xtask test`
//!   already built), so CI proves the benchmark still works; its numbers mean nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oas_codegen::{Config, Input, generate};
use sha1::{Digest, Sha1};

use crate::codegen::{Failure, io_error, workspace_root};
use crate::test::step;

mod cli;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// The part size the emulator is told to use: the RSS target is stated for 8 MiB parts.
const PART_SIZE: u64 = 8 * MIB;

/// Options of `cargo xtask bench`.
#[derive(Debug, Default)]
struct Options {
    smoke: bool,
    out: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, Failure> {
        let mut options = Options::default();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--smoke" => options.smoke = true,
                "--out" => {
                    let path = iter
                        .next()
                        .ok_or_else(|| Failure::Usage("--out needs a value".into()))?;
                    options.out = Some(PathBuf::from(path));
                }
                other => match other.strip_prefix("--out=") {
                    Some(path) => options.out = Some(PathBuf::from(path)),
                    None => return Err(Failure::Usage(format!("unknown option {other:?}"))),
                },
            }
        }
        Ok(options)
    }
}

/// What every step needs: where things are and which build profile to use.
struct Bench {
    root: PathBuf,
    target: PathBuf,
    cargo: String,
    smoke: bool,
}

impl Bench {
    /// The cargo profile of the measured programs: release, or dev for a smoke run.
    fn profile(&self) -> &'static str {
        if self.smoke { "dev" } else { "release" }
    }

    /// The folder cargo puts that profile's binaries in.
    fn bin_dir(&self) -> PathBuf {
        self.target
            .join(if self.smoke { "debug" } else { "release" })
    }

    fn cargo(&self) -> Command {
        let mut command = Command::new(&self.cargo);
        command.current_dir(&self.root);
        command
    }
}

/// Runs the command.
pub fn run(args: &[String]) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bench = Bench {
        root,
        target,
        cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        smoke: options.smoke,
    };
    let machine = Machine::detect();
    let full_spec = bench.root.join("../shared/box-openapi/openapi.json");
    let full_spec = (!bench.smoke && full_spec.exists()).then_some(full_spec);

    let mut rows = codegen(&bench, full_spec.is_some())?;
    // Uploads before the build times: `cargo clean -p box-api` there would make a
    // smoke run (dev profile) rebuild the upload command.
    let uploads = uploads(&bench)?;
    let command_line = cli::benchmarks(&bench)?;
    rows.extend(generated_crates(&bench, full_spec.as_deref())?);
    rows.extend(uploads);
    rows.extend(command_line);

    let report = render(&machine, &bench, &rows);
    println!("\n{report}");
    let out = match (&options.out, bench.smoke) {
        (Some(out), _) => Some(out.clone()),
        (None, false) => Some(bench.root.join("BENCHMARKS.md")),
        (None, true) => None,
    };
    if let Some(out) = out {
        std::fs::write(&out, &report)
            .map_err(|e| Failure::Error(format!("{}: {e}", out.display())))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

// ----- the table ------------------------------------------------------------------

/// One line of the table.
struct Row {
    benchmark: String,
    result: String,
    /// The floor it is compared with, if any.
    floor: String,
    /// The result over the floor, if there is one.
    ratio: String,
    /// Each target this row is judged by, with its verdict.
    targets: Vec<Target>,
}

impl Row {
    fn new(benchmark: impl Into<String>, result: impl Into<String>) -> Row {
        Row {
            benchmark: benchmark.into(),
            result: result.into(),
            floor: String::new(),
            ratio: String::new(),
            targets: Vec::new(),
        }
    }

    fn floor(mut self, floor: impl Into<String>, ratio: f64) -> Row {
        self.floor = floor.into();
        self.ratio = format!("{ratio:.2}×");
        self
    }

    fn target(mut self, what: impl Into<String>, met: bool) -> Row {
        self.targets.push(Target {
            what: what.into(),
            met,
        });
        self
    }
}

struct Target {
    what: String,
    met: bool,
}

/// The machine the numbers come from.
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) date: String,
}

impl Machine {
    pub(crate) fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Machine {
            cpu,
            cores,
            date: utc_now(),
        }
    }
}

/// The current UTC time (days to civil date: Howard Hinnant's algorithm, to avoid a date
/// crate for one line).
fn utc_now() -> String {
    utc(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()))
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM UTC`.
fn utc(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

fn render(machine: &Machine, bench: &Bench, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "`cargo xtask bench{}` on {}, {} cores, {}; {} profile.\n",
        if bench.smoke { " --smoke" } else { "" },
        machine.cpu,
        machine.cores,
        machine.date,
        bench.profile()
    );
    if bench.smoke {
        let _ = writeln!(
            out,
            "**Smoke run**: tiny sizes and a debug build, to prove the benchmark works; \
             these numbers measure nothing.\n"
        );
    }
    let _ = writeln!(out, "| benchmark | result | floor | × floor | target |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for row in rows {
        let targets: Vec<String> = row
            .targets
            .iter()
            .map(|t| format!("{} {}", t.what, if t.met { "✅" } else { "❌" }))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.benchmark,
            row.result,
            row.floor,
            row.ratio,
            targets.join("; ")
        );
    }
    out.push('\n');
    out.push_str(LEGEND);
    out.push_str(cli::LEGEND);
    out
}

const LEGEND: &str = "\
How the generator fares on 2,593 public APIs (share generated, refusals by kind,
slowest specs) is in [CORPUS.md](CORPUS.md) (`cargo xtask corpus --all`).

## What the numbers mean

- **codegen**: the whole generator (`oas_codegen::generate`: load, overlays, lower, emit,
  format) in process, median of criterion samples (flat sampling, at least 10 whole
  runs). The floor is serde_json parsing the same document (YAML converted to JSON
  beforehand) into `openapiv3::OpenAPI`: no generator that reads its input can be faster.
  `spec/` uses `spec/codegen.toml` (15 operations, 3 overlays); the full spec is Box's
  official `openapi.json` with every operation selected.
- **API report**: what the report adds to a `cargo xtask codegen` run, in process: the
  API summary of the generated IR, its JSON, the previous summary read back, the
  comparison and both renderings (terminal and Markdown). For `spec/` the previous
  summary is the same API (nothing changed, every item still compared); for the full
  spec it is Box's 2026-03-20 spec when `../shared/box-openapi/history/` has it.
- **generated crate**: lines of the generated files, and the wall time of `cargo build
  --lib` of the crate alone in the dev profile after `cargo clean -p` of just that crate
  (its dependencies are already built). Both are generated code alone (`box-api`; the
  upload engine is the separate `box-upload` crate).
- **SHA-1**: one core, the `sha1` crate the client uses (`examples/sha1_speed.rs`), bytes
  per second of its CPU time (not wall time, which a loaded machine would inflate),
  median of three runs taken in the same run as the uploads.
- **upload**: the `box-upload` command (a separate process) sends a file of pseudo-random bytes
  to the standalone `box-emulator` (another process, on loopback, a fresh one per run,
  8 MiB parts, storage in `/dev/shm` when it exists). MB/s is the file size (10⁶ bytes)
  over the client's wall time from start to exit (session, parts and commit). CPU is the
  client's user + system time per GiB, from the kernel's accounting of that process; the
  floor is hashing every byte twice (part digest and whole-file digest) at the measured
  SHA-1 speed. Peak RSS is the client's high-water mark (`VmHWM`, polled every 5 ms). The emulator's CPU
  per GiB is shown too: it verifies every part's digest and the whole file's, on the same
  two cores. The file's SHA-1 as stored by the emulator is checked against the source.
  Every size is sent in parts (`--chunked-from 20000000`: from Box's 20 MB minimum on).
- **direct upload**: the same, for a file below the 50 MB threshold sent in one
  request: a hash pass over the file (for `content-md5`), then the bytes streamed.
- Targets are reported, not enforced: a missed target is a finding, not a failure. The
  command fails only when something breaks (a build, an upload, a digest mismatch).

## What limits the targets (profiled with callgrind and perf)

- **codegen of `spec/` ≤ 2× its parse floor** cannot be met as the pipeline stands: of
  ≈60 M instructions per run, reading the YAML with serde_yaml is ≈17 M (the floor,
  serde_json on the same document as JSON, is a small fraction of that), re-parsing the
  emitted tokens with syn ≈25 M, emitting ≈13 M, prettyplease ≈10 M. Emitting `syn`
  syntax trees directly (no re-parse) is the next step; YAML stays slower than JSON.
- **upload client CPU ≤ 1.5× floor**: user time is within ≈1.1× of the two SHA-1
  passes; the rest is the kernel: `pread` copying the file out of the page cache (≈20 %
  of the client's CPU) and the loopback TCP send path. Reading through `mmap` would
  remove the copy, at the price of `SIGBUS` if the file shrinks during the upload.
- **throughput at concurrency 4 ≥ 40 % of SHA-1 speed**: on two cores shared with the
  emulator, four SHA-1 passes over every byte (client: part and whole file; emulator:
  part check and whole file) already need ≈80 % of the CPU budget that speed allows,
  before any copy. The emulator spends the rest on writing parts and the assembled file
  to tmpfs; its whole-file hash runs while parts arrive.
";

// ----- codegen ----------------------------------------------------------------------

fn codegen(bench: &Bench, full: bool) -> Result<Vec<Row>, Failure> {
    let home = bench.target.join("bench/criterion");
    // Results of an earlier run must not be read as this run's.
    if home.exists() {
        std::fs::remove_dir_all(&home).map_err(|e| io_error(&home, e))?;
    }
    let mut command = bench.cargo();
    command
        .args(["bench", "--profile", bench_profile(bench)])
        .args(["-p", "oas-codegen", "--bench", "codegen"])
        .env("CRITERION_HOME", &home)
        .env("OAS_BENCH_SMOKE", if bench.smoke { "1" } else { "0" });
    step("codegen (criterion)", &mut command)?;

    let mut rows = Vec::new();
    let cases: &[(&str, &str)] = if full {
        &[("spec", "spec/"), ("full", "full official spec")]
    } else {
        &[("spec", "spec/")]
    };
    for (group, label) in cases {
        let generate = Estimate::read(&home.join(group).join("generate"))?;
        let floor = Estimate::read(&home.join(group).join("parse_floor"))?;
        let ratio = generate.median / floor.median;
        let mut row = Row::new(
            format!("codegen {label}"),
            format!(
                "{} (median of {} runs)",
                millis(generate.median),
                generate.runs
            ),
        )
        .floor(format!("{} parse", millis(floor.median)), ratio);
        row = match *group {
            "spec" => row.target("≤ 2× floor", ratio <= 2.0),
            _ => row.target("< 300 ms", generate.median < 0.3),
        };
        rows.push(row);
        let report = Estimate::read(&home.join(group).join("report"))?;
        let what = match *group {
            "spec" => "API report, spec/ (nothing changed)",
            _ => "API report, full spec (vs. 2026-03-20 when present)",
        };
        let share = report.median / generate.median;
        rows.push(
            Row::new(
                what,
                format!(
                    "{} (median of {} runs), {:.0} % of codegen",
                    millis(report.median),
                    report.runs,
                    share * 100.0
                ),
            )
            .target("≤ 10 % of codegen", share <= 0.1),
        );
    }
    Ok(rows)
}

/// `cargo bench` builds with the bench profile (release-like); smoke runs reuse the dev
/// build of the tests.
fn bench_profile(bench: &Bench) -> &'static str {
    if bench.smoke { "dev" } else { "bench" }
}

/// A criterion result: the median seconds per run and how many runs it came from.
struct Estimate {
    median: f64,
    runs: u64,
}

impl Estimate {
    fn read(dir: &Path) -> Result<Estimate, Failure> {
        let json = |name: &str| -> Result<serde_json::Value, Failure> {
            let path = dir.join("new").join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            serde_json::from_str(&text)
                .map_err(|e| Failure::Error(format!("{}: {e}", path.display())))
        };
        let median = json("estimates.json")?["median"]["point_estimate"]
            .as_f64()
            .ok_or_else(|| Failure::Error(format!("{}: no median", dir.display())))?;
        let runs = json("sample.json")?["iters"]
            .as_array()
            .map_or(0.0, |iters| iters.iter().filter_map(|i| i.as_f64()).sum())
            as u64;
        Ok(Estimate {
            median: median / 1e9,
            runs,
        })
    }
}

fn millis(seconds: f64) -> String {
    if seconds < 0.01 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.1} ms", seconds * 1e3)
    }
}

// ----- the generated crates --------------------------------------------------------

fn generated_crates(bench: &Bench, full_spec: Option<&Path>) -> Result<Vec<Row>, Failure> {
    let dir = bench.root.join("generated/src/generated");
    let mut lines = 0;
    for entry in std::fs::read_dir(&dir).map_err(|e| io_error(&dir, e))? {
        let path = entry.map_err(|e| io_error(&dir, e))?.path();
        let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
        lines += text.lines().count();
    }
    let build = clean_build(bench, &bench.root, "box-api")?;
    let mut rows = vec![Row::new(
        "generated crate from spec/ (`box-api`)",
        format!(
            "{} lines; clean build {:.1} s",
            thousands(lines as u64),
            build.as_secs_f64()
        ),
    )];
    if let Some(spec) = full_spec {
        let output = generate(&Input {
            spec: spec.to_owned(),
            config: Config::select_all(),
            spec_label: "openapi.json".into(),
        })
        .map_err(|e| Failure::Error(format!("{}: {e}", spec.display())))?;
        let lines: usize = output.files.values().map(|f| f.lines().count()).sum();
        let dir = full_spec_crate(bench, &output.files)?;
        let build = clean_build(bench, &dir, "box_full")?;
        rows.push(Row::new(
            "generated crate from the full spec",
            format!(
                "{} lines; clean build {:.1} s",
                thousands(lines as u64),
                build.as_secs_f64()
            ),
        ));
    }
    Ok(rows)
}

/// Writes a crate of the full spec's output into the target folder, sharing the
/// workspace's lock file and dependency profile, so nothing is fetched.
fn full_spec_crate(bench: &Bench, files: &BTreeMap<String, String>) -> Result<PathBuf, Failure> {
    let dir = bench.target.join("bench/box_full");
    let src = dir.join("src/box_full");
    std::fs::create_dir_all(&src).map_err(|e| io_error(&src, e))?;
    let manifest = format!(
        "[package]\nname = \"box_full\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\noas-runtime = {{ path = {runtime:?} }}\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\n\
         serde_json = {{ version = \"1\", features = [\"preserve_order\"] }}\n\
         chrono = {{ version = \"0.4\", default-features = false, features = [\"std\", \"clock\", \"serde\"] }}\n\n\
         [profile.dev.package.\"*\"]\nopt-level = 2\n\n[workspace]\n",
        runtime = bench.root.join("runtime").display().to_string(),
    );
    let mut written = vec![
        (dir.join("Cargo.toml"), manifest),
        (
            dir.join("src/lib.rs"),
            "//! Box's full spec, generated.\n#[rustfmt::skip]\npub mod box_full;\n".into(),
        ),
    ];
    for (name, text) in files {
        written.push((src.join(name), text.clone()));
    }
    for (path, text) in written {
        std::fs::write(&path, text).map_err(|e| io_error(&path, e))?;
    }
    let lock = dir.join("Cargo.lock");
    std::fs::copy(bench.root.join("Cargo.lock"), &lock).map_err(|e| io_error(&lock, e))?;
    Ok(dir)
}

/// Builds `package` once (so its dependencies are built), cleans just that package, and
/// times a second build.
fn clean_build(bench: &Bench, dir: &Path, package: &str) -> Result<Duration, Failure> {
    let build = || {
        let mut command = bench.cargo();
        command
            .current_dir(dir)
            .args(["build", "--offline", "--lib", "-p", package])
            .env("CARGO_TARGET_DIR", &bench.target);
        command
    };
    step(
        &format!("build {package} and its dependencies"),
        &mut build(),
    )?;
    step(
        &format!("cargo clean -p {package}"),
        bench
            .cargo()
            .current_dir(dir)
            .args(["clean", "--offline", "--profile", "dev", "-p", package])
            .env("CARGO_TARGET_DIR", &bench.target),
    )?;
    let started = Instant::now();
    step(&format!("clean build of {package} (timed)"), &mut build())?;
    Ok(started.elapsed())
}

pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ----- uploads ----------------------------------------------------------------------

fn uploads(bench: &Bench) -> Result<Vec<Row>, Failure> {
    step(
        "build the emulator and the upload client",
        bench
            .cargo()
            .args(["build", "--profile", bench.profile()])
            .args(["-p", "box-emulator", "--bin", "box-emulator"])
            .args(["-p", "box-upload", "--bin", "box-upload"])
            .args(["--example", "sha1_speed"]),
    )?;
    let bin = bench.bin_dir();
    let emulator = bin.join("box-emulator");
    let client = bin.join("box-upload");

    let sha1 = sha1_speed(&bin.join("examples/sha1_speed"), bench.smoke)?;
    // Seconds of CPU per GiB to hash every byte twice at that speed.
    let floor = 2.0 * GIB as f64 / sha1;
    let mut rows = vec![Row::new(
        "SHA-1, one core",
        format!("{:.0} MB/s", sha1 / 1e6),
    )];

    let work = work_dir("oas-bench-")?;
    let plan: &[(u64, &[usize])] = if bench.smoke {
        &[(24 * MIB, &[2])]
    } else {
        &[(256 * MIB, &[1, 4, 8]), (GIB, &[1, 4, 8])]
    };
    for &(size, concurrencies) in plan {
        let file = work
            .path()
            .join(format!("upload-{}.bin", size_label(size).replace(' ', "")));
        let sha1_hex = write_source(&file, size)?;
        for &concurrency in concurrencies {
            let run = upload(
                &emulator,
                &client,
                work.path(),
                &file,
                &sha1_hex,
                concurrency,
                Way::Parts,
            )?;
            let gib = size as f64 / GIB as f64;
            let mbps = size as f64 / 1e6 / run.client.wall.as_secs_f64();
            let cpu = run.client.cpu().as_secs_f64() / gib;
            let rss = run.client.peak_rss_kib as f64 / 1024.0;
            let mut row = Row::new(
                format!("upload {} c{concurrency}", size_label(size)),
                format!(
                    "{mbps:.0} MB/s; client CPU {cpu:.2} s/GiB ({:.2} user + {:.2} sys), \
                     peak RSS {rss:.0} MiB; emulator CPU {:.2} s/GiB",
                    run.client.user.as_secs_f64() / gib,
                    run.client.sys.as_secs_f64() / gib,
                    run.emulator.cpu().as_secs_f64() / gib,
                ),
            )
            .floor(format!("{floor:.2} s/GiB"), cpu / floor)
            .target("CPU ≤ 1.5× floor", cpu <= 1.5 * floor);
            if concurrency == 4 {
                let wanted = 0.4 * sha1 / 1e6;
                row = row
                    .target(format!("≥ {wanted:.0} MB/s"), mbps >= wanted)
                    .target("RSS < 80 MiB", rss < 80.0);
            }
            rows.push(row);
        }
        std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
    }
    rows.push(direct_upload(bench, &emulator, &client, work.path())?);
    Ok(rows)
}

/// A temporary folder for sources and the emulator's storage, in memory when possible:
/// the emulator's disk is not what is measured.
fn work_dir(prefix: &str) -> Result<tempfile::TempDir, Failure> {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .map_err(|e| io_error(&base, e))
}

/// How the `box-upload` command is told to send the file.
#[derive(Clone, Copy)]
enum Way {
    /// In parts from Box's 20 MB minimum on (`--chunked-from 20000000`).
    Parts,
    /// By size, with the command's defaults (one request below 50 MB).
    BySize,
}

/// One file just below the 50 MB threshold, sent in one request (hash pass, then stream).
fn direct_upload(
    bench: &Bench,
    emulator: &Path,
    client: &Path,
    work: &Path,
) -> Result<Row, Failure> {
    let size = if bench.smoke { 4 * MIB } else { 48 * MIB };
    let file = work.join("direct.bin");
    let sha1_hex = write_source(&file, size)?;
    let run = upload(emulator, client, work, &file, &sha1_hex, 1, Way::BySize)?;
    std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
    let gib = size as f64 / GIB as f64;
    let mbps = size as f64 / 1e6 / run.client.wall.as_secs_f64();
    Ok(Row::new(
        format!("direct upload {}", size_label(size)),
        format!(
            "{mbps:.0} MB/s; client CPU {:.2} s/GiB, peak RSS {:.0} MiB; emulator CPU {:.2} s/GiB",
            run.client.cpu().as_secs_f64() / gib,
            run.client.peak_rss_kib as f64 / 1024.0,
            run.emulator.cpu().as_secs_f64() / gib,
        ),
    ))
}

fn size_label(size: u64) -> String {
    if size >= GIB && size.is_multiple_of(GIB) {
        format!("{} GiB", size / GIB)
    } else {
        format!("{} MiB", size / MIB)
    }
}

/// The median of three runs of the `sha1_speed` example, in bytes per second of CPU
/// time: on a loaded machine, wall time would count the other programs' turns.
fn sha1_speed(program: &Path, smoke: bool) -> Result<f64, Failure> {
    let mut speeds = Vec::new();
    for _ in 0..3 {
        let run = measure(Command::new(program).arg(if smoke { "64" } else { "2048" }))?;
        // "sha1: N MiB in ...", after an 8 MiB warm-up.
        let mib = run
            .stdout
            .strip_prefix("sha1: ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|_| run.success)
            .ok_or_else(|| {
                Failure::Error(format!(
                    "{} failed or printed no size: {}{}",
                    program.display(),
                    run.stdout,
                    run.stderr
                ))
            })?;
        let cpu = run.usage.cpu().as_secs_f64().max(1e-6);
        speeds.push(((mib + 8) * MIB) as f64 / cpu);
    }
    speeds.sort_by(f64::total_cmp);
    Ok(speeds[1])
}

/// Writes `size` pseudo-random bytes (xorshift: nothing to compress, different in every
/// part) and returns their SHA-1 in hex.
fn write_source(path: &Path, size: u64) -> Result<String, Failure> {
    let mut file = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
    let mut words = vec![0u64; (8 * MIB / 8) as usize];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for word in &mut words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *word = x;
    }
    let mut hasher = Sha1::new();
    let mut bytes = vec![0u8; words.len() * 8];
    let mut written = 0;
    let mut chunk = 0u64;
    while written < size {
        // Each chunk differs from the others: the words are mixed with its number.
        let salt = (chunk + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        for (out, word) in bytes.chunks_exact_mut(8).zip(&words) {
            out.copy_from_slice(&(word ^ salt).to_le_bytes());
        }
        let n = (size - written).min(bytes.len() as u64) as usize;
        file.write_all(&bytes[..n]).map_err(|e| io_error(path, e))?;
        hasher.update(&bytes[..n]);
        written += n as u64;
        chunk += 1;
    }
    file.sync_all().map_err(|e| io_error(path, e))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Both processes' accounting for one upload.
struct UploadRun {
    client: Usage,
    emulator: Usage,
}

/// Uploads `file` through a fresh emulator and checks that it was stored whole.
fn upload(
    emulator: &Path,
    client: &Path,
    work: &Path,
    file: &Path,
    sha1_hex: &str,
    concurrency: usize,
    way: Way,
) -> Result<UploadRun, Failure> {
    let storage = work.join(format!("storage-c{concurrency}"));
    let log = work.join("emulator.log");
    let server = Server::start(emulator, &storage, &log)?;
    let label = format!(
        "upload {} at concurrency {concurrency}",
        file.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    );
    eprintln!("==> {label}");
    let mut command = Command::new(client);
    command
        .arg(file)
        .args(["--concurrency", &concurrency.to_string(), "--json"])
        .env("BOX_TOKEN", "bench")
        .env("BOX_API_URL", &server.api_url)
        .env("BOX_UPLOAD_URL", &server.upload_url)
        .env("XDG_STATE_HOME", work.join("state"))
        .env("RUST_LOG", "warn");
    if let Way::Parts = way {
        // In parts from Box's 20 MB minimum on.
        command.args(["--chunked-from", "20000000"]);
    }
    let client_run = measure(&mut command);
    let emulator_usage = server.stop();
    let _ = std::fs::remove_dir_all(&storage);
    let client_run = client_run?;
    let emulator_usage = emulator_usage?;
    if !client_run.success {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(Failure::Error(format!(
            "{label} failed:\n{}{}\nemulator log:\n{log}",
            client_run.stdout, client_run.stderr
        )));
    }
    let report: Option<serde_json::Value> = serde_json::from_str(client_run.stdout.trim()).ok();
    let stored = report
        .as_ref()
        .and_then(|r| r["sha1"].as_str())
        .unwrap_or_default();
    if stored != sha1_hex {
        return Err(Failure::Error(format!(
            "{label}: the stored file's SHA-1 is {stored:?}, the source's {sha1_hex}:\n{}",
            client_run.stdout
        )));
    }
    Ok(UploadRun {
        client: client_run.usage,
        emulator: emulator_usage,
    })
}

/// A standalone emulator process.
struct Server {
    child: Child,
    api_url: String,
    upload_url: String,
}

impl Server {
    fn start(program: &Path, storage: &Path, log: &Path) -> Result<Server, Failure> {
        let part_size = PART_SIZE.to_string();
        Server::start_with(program, storage, log, &["--part-size", &part_size], "warn")
    }

    /// An emulator with these command-line options, logging at `log_filter`.
    fn start_with(
        program: &Path,
        storage: &Path,
        log: &Path,
        options: &[&str],
        log_filter: &str,
    ) -> Result<Server, Failure> {
        let log_file = std::fs::File::create(log).map_err(|e| io_error(log, e))?;
        let mut child = Command::new(program)
            .args(["--addr", "127.0.0.1:0"])
            .args(options)
            .arg("--storage")
            .arg(storage)
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| io_error(program, e))?;
        let (mut api_url, mut upload_url) = (None, None);
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines().take(2) {
                let line = line.map_err(|e| io_error(program, e))?;
                if let Some(url) = line.strip_prefix("upload ") {
                    upload_url = Some(url.trim().to_owned());
                } else if let Some(url) = line.strip_prefix("api ") {
                    api_url = Some(url.trim().to_owned());
                }
            }
        }
        match (api_url, upload_url) {
            (Some(api_url), Some(upload_url)) => Ok(Server {
                child,
                api_url,
                upload_url,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(log).unwrap_or_default();
                Err(Failure::Error(format!(
                    "{} printed no `api` and `upload` URLs:\n{log}",
                    program.display()
                )))
            }
        }
    }

    /// Stops the emulator (SIGTERM, then SIGKILL after 10 s) and returns its accounting.
    fn stop(self) -> Result<Usage, Failure> {
        rusage::terminate(self.child, Duration::from_secs(10))
    }
}

// ----- process accounting ----------------------------------------------------------

/// A child process's resource use.
struct Usage {
    wall: Duration,
    user: Duration,
    sys: Duration,
    /// Peak resident set size in KiB (`VmHWM`, polled while it runs), or 0 when unknown.
    peak_rss_kib: u64,
}

impl Usage {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// A finished child: its output and accounting.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
    usage: Usage,
}

/// Runs a command to its end, collecting its output, wall time, CPU time and peak RSS.
fn measure(command: &mut Command) -> Result<Run, Failure> {
    let program = PathBuf::from(command.get_program());
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io_error(&program, e))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let exited = Arc::new(AtomicBool::new(false));
    let peak = {
        let (pid, exited) = (child.id(), exited.clone());
        std::thread::spawn(move || {
            let mut peak = 0;
            while !exited.load(Ordering::Relaxed) {
                peak = peak.max(vm_hwm_kib(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let waited = rusage::wait(&child);
    exited.store(true, Ordering::Relaxed);
    let peak = peak.join().unwrap_or(0);
    let (success, mut usage) = waited.map_err(|e| io_error(&program, e))?;
    usage.wall = started.elapsed();
    usage.peak_rss_kib = peak;
    Ok(Run {
        success,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        usage,
    })
}

/// The high-water mark of a running process's resident memory. Not `ru_maxrss`: Linux
/// carries the pre-`exec` peak over, so a child forked from this (large) process would
/// report this process's memory. `VmHWM` is of the program after `exec` only; it is gone
/// once the process exits, hence the polling (memory that grows in the last 5 ms before
/// exit would be missed; the client's buffers are allocated early and reused).
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// `wait4`: the exit status and resource use of one child, not of all children (cargo's
/// rustc processes would otherwise count in `RUSAGE_CHILDREN`).
#[cfg(unix)]
mod rusage {
    use std::process::Child;
    use std::time::{Duration, Instant};

    use super::{Failure, Usage};

    /// Waits for the child to exit (it must not have been waited for).
    pub fn wait(child: &Child) -> std::io::Result<(bool, Usage)> {
        loop {
            match wait4(child, 0)? {
                Some(done) => return Ok(done),
                None => continue,
            }
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn terminate(mut child: Child, grace: Duration) -> Result<Usage, Failure> {
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill has no memory effects; pid is our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        loop {
            match wait4(&child, libc::WNOHANG) {
                Ok(Some((_, usage))) => return Ok(usage),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    return wait(&child)
                        .map(|(_, usage)| usage)
                        .map_err(|e| Failure::Error(format!("waiting for the emulator: {e}")));
                }
                Err(e) => return Err(Failure::Error(format!("waiting for the emulator: {e}"))),
            }
        }
    }

    /// One `wait4` call; `None` when `WNOHANG` found it still running or a signal
    /// interrupted the wait.
    fn wait4(child: &Child, options: libc::c_int) -> std::io::Result<Option<(bool, Usage)>> {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data; zeroed is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to locals; the pid is our child.
        let pid =
            unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, options, &mut usage) };
        if pid < 0 {
            let error = std::io::Error::last_os_error();
            return if error.kind() == std::io::ErrorKind::Interrupted {
                Ok(None)
            } else {
                Err(error)
            };
        }
        if pid == 0 {
            return Ok(None);
        }
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        Ok(Some((
            success,
            Usage {
                wall: Duration::ZERO,
                user: time(usage.ru_utime),
                sys: time(usage.ru_stime),
                peak_rss_kib: 0,
            },
        )))
    }
}

#[cfg(not(unix))]
mod rusage {
    use std::process::Child;
    use std::time::Duration;

    use super::{Failure, Usage};

    pub fn wait(_: &Child) -> std::io::Result<(bool, Usage)> {
        Err(std::io::Error::other(
            "cargo xtask bench needs Unix (wait4)",
        ))
    }

    pub fn terminate(mut child: Child, _: Duration) -> Result<Usage, Failure> {
        let _ = child.kill();
        let _ = child.wait();
        Err(Failure::Error(
            "cargo xtask bench needs Unix (wait4)".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        // 2024-02-29 23:59:00, a leap day.
        assert_eq!(utc(1_709_251_140), "2024-02-29 23:59 UTC");
        assert_eq!(utc(1_735_689_600), "2025-01-01 00:00 UTC");
    }

    #[test]
    fn big_numbers_get_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(58_273), "58,273");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn options_are_parsed_and_checked() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = Options::parse(&args(&["--smoke", "--out", "x.md"])).unwrap();
        assert!(options.smoke);
        assert_eq!(options.out, Some(PathBuf::from("x.md")));
        let options = Options::parse(&args(&["--out=y.md"])).unwrap();
        assert_eq!(options.out, Some(PathBuf::from("y.md")));
        assert!(matches!(
            Options::parse(&args(&["--fast"])),
            Err(Failure::Usage(_))
        ));
        assert!(matches!(
            Options::parse(&args(&["--out"])),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn sizes_are_labelled_in_binary_units() {
        assert_eq!(size_label(256 * MIB), "256 MiB");
        assert_eq!(size_label(GIB), "1 GiB");
        assert_eq!(size_label(24 * MIB), "24 MiB");
    }
}

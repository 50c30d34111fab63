//! The `box-upload` command's benchmarks: a folder of many small files, one big file over
//! a simulated wide-area link at several concurrencies, and the bytes sent again when an
//! upload killed halfway is resumed. Each runs the command (a separate process) against a
//! fresh standalone emulator.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use super::{Bench, MIB, Row, Server, io_error, measure, size_label, step, work_dir, write_source};
use crate::codegen::Failure;

/// The simulated link: bytes per second per connection, and milliseconds per request.
const LINK_BANDWIDTH: u64 = 25_000_000;
const LINK_LATENCY_MS: u64 = 20;

/// What the runs share.
struct Setup<'a> {
    bench: &'a Bench,
    emulator: &'a Path,
    client: &'a Path,
    work: &'a Path,
}

pub(super) fn benchmarks(bench: &Bench) -> Result<Vec<Row>, Failure> {
    step(
        "build the emulator and the box-upload command",
        bench
            .cargo()
            .args(["build", "--profile", bench.profile()])
            .args(["-p", "box-emulator", "--bin", "box-emulator"])
            .args(["-p", "box-upload", "--bin", "box-upload"]),
    )?;
    let bin = bench.bin_dir();
    let work = work_dir("oas-bench-cli-")?;
    let setup = Setup {
        bench,
        emulator: &bin.join("box-emulator"),
        client: &bin.join("box-upload"),
        work: work.path(),
    };
    let mut rows = small_files(&setup)?;
    rows.extend(wan(&setup)?);
    rows.push(resume(&setup)?);
    Ok(rows)
}

impl Setup<'_> {
    /// The command against `server`, its state in the work folder.
    fn command(&self, server: &Server, args: &[&str]) -> Command {
        let mut command = Command::new(self.client);
        command
            .args(args)
            .env("BOX_TOKEN", "bench")
            .env("BOX_API_URL", &server.api_url)
            .env("BOX_UPLOAD_URL", &server.upload_url)
            .env("XDG_STATE_HOME", self.work.join("state"))
            .env("RUST_LOG", "warn");
        command
    }

    fn server(&self, name: &str, options: &[&str], log_filter: &str) -> Result<Server, Failure> {
        let storage = self.work.join(format!("storage-{name}"));
        let log = self.work.join(format!("emulator-{name}.log"));
        Server::start_with(self.emulator, &storage, &log, options, log_filter)
    }

    /// The emulator options of a file sent in parts of `part` bytes over the simulated link.
    fn wan_options(&self, part: u64) -> Vec<String> {
        vec![
            "--part-size".into(),
            part.to_string(),
            "--min-file-size".into(),
            "1".into(),
            "--link-bandwidth".into(),
            LINK_BANDWIDTH.to_string(),
            "--link-latency-ms".into(),
            LINK_LATENCY_MS.to_string(),
        ]
    }
}

/// The JSON objects of a run, checked to be `outcome` with the SHA-1 `sha1s` gives by
/// name; their number.
fn check_reports(
    label: &str,
    stdout: &str,
    outcome: &str,
    sha1s: &BTreeMap<String, String>,
) -> Result<Vec<serde_json::Value>, Failure> {
    let fail = |what: String| Failure::Error(format!("{label}: {what}\n{stdout}"));
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| fail(format!("not JSON: {e}")))?;
    if reports.len() != sha1s.len() {
        return Err(fail(format!(
            "{} files reported, {} sent",
            reports.len(),
            sha1s.len()
        )));
    }
    for report in &reports {
        let name = report["name"].as_str().unwrap_or_default();
        if report["outcome"] != outcome
            || report["sha1"].as_str() != sha1s.get(name).map(String::as_str)
        {
            return Err(fail(format!("{name} ended as {report}")));
        }
    }
    Ok(reports)
}

/// (1) A folder of small files (1 KB to 2 MB, sizes spread evenly on a log scale, seeded),
/// at concurrency 1 and 8, without link simulation.
fn small_files(setup: &Setup) -> Result<Vec<Row>, Failure> {
    let count = if setup.bench.smoke { 20 } else { 500 };
    let tree = setup.work.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| io_error(&tree, e))?;
    let mut sha1s = BTreeMap::new();
    let mut total = 0;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..count {
        x = xorshift(x);
        // 1 KB × 2000^u, u uniform in [0, 1).
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        let size = (1000.0 * 2000f64.powf(u)) as usize;
        let name = format!("file-{i:03}.bin");
        let bytes = seeded_bytes(size, x);
        let path = tree.join(&name);
        std::fs::write(&path, &bytes).map_err(|e| io_error(&path, e))?;
        sha1s.insert(name, hex(&Sha1::digest(&bytes)));
        total += size as u64;
    }
    let mut rows = Vec::new();
    for concurrency in [1, 8] {
        let label = format!("{count} small files c{concurrency}");
        eprintln!("==> {label}");
        let server = setup.server(&format!("tree-c{concurrency}"), &[], "warn")?;
        let tree_arg = tree.display().to_string();
        let c = concurrency.to_string();
        let run = measure(&mut setup.command(&server, &[&tree_arg, "--json", "--concurrency", &c]));
        let _ = server.stop();
        let run = run?;
        if !run.success {
            return Err(Failure::Error(format!("{label} failed:\n{}", run.stderr)));
        }
        check_reports(&label, &run.stdout, "uploaded", &sha1s)?;
        let seconds = run.usage.wall.as_secs_f64();
        rows.push(Row::new(
            format!(
                "folder of {count} files ({:.0} MB) c{concurrency}",
                total as f64 / 1e6
            ),
            format!(
                "{:.0} files/s, {:.1} MB/s; client CPU {:.2} s",
                count as f64 / seconds,
                total as f64 / 1e6 / seconds,
                run.usage.cpu().as_secs_f64()
            ),
        ));
    }
    Ok(rows)
}

/// (2) One big file over the simulated link, at concurrency 1, 4 and 8: each part has a
/// connection of its own, so throughput should grow about linearly with the concurrency.
fn wan(setup: &Setup) -> Result<Vec<Row>, Failure> {
    let (size, part) = if setup.bench.smoke {
        (8 * MIB, MIB)
    } else {
        (256 * MIB, 8 * MIB)
    };
    let file = setup.work.join("wan.bin");
    let sha1 = write_source(&file, size)?;
    let sha1s = BTreeMap::from([("wan.bin".to_string(), sha1)]);
    let options = setup.wan_options(part);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let mut rows = Vec::new();
    let mut single = None;
    for concurrency in [1, 4, 8] {
        let label = format!("{} over the link c{concurrency}", size_label(size));
        eprintln!("==> {label}");
        let server = setup.server(&format!("wan-c{concurrency}"), &options, "warn")?;
        let (file_arg, c, from) = (
            file.display().to_string(),
            concurrency.to_string(),
            part.to_string(),
        );
        let run = measure(&mut setup.command(
            &server,
            &[
                &file_arg,
                "--json",
                "--concurrency",
                &c,
                "--chunked-from",
                &from,
            ],
        ));
        let _ = server.stop();
        let run = run?;
        if !run.success {
            return Err(Failure::Error(format!("{label} failed:\n{}", run.stderr)));
        }
        check_reports(&label, &run.stdout, "uploaded", &sha1s)?;
        let mbps = size as f64 / 1e6 / run.usage.wall.as_secs_f64();
        let base = *single.get_or_insert(mbps);
        let scale = mbps / base;
        let mut row = Row::new(
            format!(
                "{} over a {} MB/s, {LINK_LATENCY_MS} ms link c{concurrency}",
                size_label(size),
                LINK_BANDWIDTH / 1_000_000
            ),
            format!(
                "{mbps:.1} MB/s ({scale:.2}× c1); peak RSS {:.0} MiB",
                run.usage.peak_rss_kib as f64 / 1024.0
            ),
        );
        if concurrency > 1 {
            let wanted = 0.75 * concurrency as f64;
            row = row.target(format!("≥ {wanted:.1}× c1"), scale >= wanted);
        }
        rows.push(row);
    }
    std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
    Ok(rows)
}

/// (3) A file over the simulated link, killed (SIGKILL) once half its parts are stored, then the same command again: the bytes sent twice, from the emulator's log of
/// part uploads (one line per upload, with its offset).
fn resume(setup: &Setup) -> Result<Row, Failure> {
    let (size, part) = if setup.bench.smoke {
        (8 * MIB, MIB / 2)
    } else {
        (256 * MIB, 8 * MIB)
    };
    let concurrency = 4;
    let parts = size.div_ceil(part);
    let file = setup.work.join("resume.bin");
    let sha1 = write_source(&file, size)?;
    let sha1s = BTreeMap::from([("resume.bin".to_string(), sha1)]);
    let options = setup.wan_options(part);
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let label = format!("resume of {} after kill -9 at 50 %", size_label(size));
    eprintln!("==> {label}");
    let server = setup.server("resume", &options, "box_emulator=info")?;
    let log = setup.work.join("emulator-resume.log");
    let (file_arg, c, from) = (
        file.display().to_string(),
        concurrency.to_string(),
        part.to_string(),
    );
    let args = [
        file_arg.as_str(),
        "--json",
        "--concurrency",
        &c,
        "--chunked-from",
        &from,
    ];
    let mut first = setup
        .command(&server, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| io_error(setup.client, e))?;
    let deadline = Instant::now() + Duration::from_secs(600);
    // Another process: its progress shows only in the emulator's log, which has a line
    // per part upload as it begins. The client begins one only when another has ended, so
    // once `parts / 2 + concurrency` have begun, at least half the parts are stored.
    while (part_uploads(&log)?.values().sum::<u64>()) < parts / 2 + concurrency {
        let ended = first.try_wait().map_err(|e| io_error(setup.client, e))?;
        if ended.is_some() || Instant::now() > deadline {
            let _ = server.stop();
            return Err(Failure::Error(format!(
                "{label}: the upload ended before the kill"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().map_err(|e| io_error(setup.client, e))?;
    let _ = first.wait();
    let killed_at = part_uploads(&log)?.values().sum::<u64>();
    let run = measure(&mut setup.command(&server, &args));
    let _ = server.stop();
    let run = run?;
    if !run.success {
        return Err(Failure::Error(format!("{label} failed:\n{}", run.stderr)));
    }
    let reports = check_reports(&label, &run.stdout, "uploaded", &sha1s)?;
    if !reports[0]["notes"].to_string().contains("resumed session") {
        return Err(Failure::Error(format!(
            "{label}: not resumed:\n{}",
            run.stdout
        )));
    }
    let uploads = part_uploads(&log)?;
    let again: u64 = uploads.values().map(|n| n.saturating_sub(1)).sum();
    let share = (again * part) as f64 / size as f64;
    std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
    let mut report = std::io::stderr();
    let _ = writeln!(
        report,
        "    killed after {killed_at} part uploads began; {again} parts sent again"
    );
    Ok(Row::new(
        format!(
            "resume of {} after kill -9 at 50 % (c{concurrency})",
            size_label(size)
        ),
        format!(
            "{again} of {parts} parts sent again ({:.1} % of the file); the resume took {:.1} s",
            100.0 * share,
            run.usage.wall.as_secs_f64()
        ),
    )
    .target(
        format!("≤ {concurrency} parts (those in flight)"),
        again <= concurrency,
    ))
}

/// Part uploads by offset, from an emulator log at `box_emulator=info`.
fn part_uploads(log: &Path) -> Result<BTreeMap<u64, u64>, Failure> {
    let text = std::fs::read_to_string(log).map_err(|e| io_error(log, e))?;
    let mut uploads = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("part upload")) {
        let offset = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("offset="))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(offset) = offset {
            *uploads.entry(offset).or_default() += 1;
        }
    }
    Ok(uploads)
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

/// `len` pseudo-random bytes from `seed`.
fn seeded_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x = xorshift(x);
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the command's rows mean, for `BENCHMARKS.md`.
pub(super) const LEGEND: &str = "\
- **folder of N files**: the `box-upload` command (release build, a separate process)
  uploads a folder of seeded pseudo-random files, 1 KB to 2 MB (sizes spread evenly on a
  log scale), to a fresh standalone emulator on loopback with no link simulation: each
  file in one request (below `--chunked-from`), as many at once as `--concurrency`. Files
  per second and MB/s over the command's wall time (listing, folder creation, every
  upload, the summary). Every file's JSON line is checked: `uploaded`, the source's SHA-1.
- **over a 25 MB/s, 20 ms link**: the emulator simulates a wide-area link per connection
  (`--link-bandwidth 25000000 --link-latency-ms 20`: request bodies read at most that
  fast per connection, each request held 20 ms), and the command sends one file in
  8 MiB parts at concurrency 1, 4 and 8. Each part goes on a connection of its own, so
  throughput should grow about linearly with the concurrency until the two cores (both
  processes hash every byte) or loopback become the limit; the target is 75 % of linear.
- **resume after kill -9 at 50 %**: the same link, concurrency 4; the command is killed
  with SIGKILL (no handler runs) once half the parts are stored (the emulator logs each
  part upload as it begins; a new one begins only when one ends), then the same command
  is run again: it finds its session in the state directory, lists the stored parts and
  sends the rest. \"Sent again\" counts parts the emulator's log shows more than once:
  those that were in flight at the kill, at most the concurrency.
- **No peer in the same run**: rclone's Box backend (Debian's `rclone`) has its API and
  upload roots as constants (`rootURL`, `uploadURL` in `backend/box/box.go`), with no
  option to change them, so it cannot be pointed at the emulator without redirecting
  `api.box.com` and serving a certificate it trusts; it is not measured here.
";

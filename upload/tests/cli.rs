//! The `box-upload` command against the emulator: folder trees, one request budget,
//! automatic resume after `kill -9`, `--json` and exit codes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use box_emulator::{Emulator, EmulatorConfig, Op, PartSizePolicy};
use serde_json::Value;

mod common;
use common::{random_bytes, sha1_of_file};

const KIB: u64 = 1024;
/// The emulator's part size in these tests.
const PART: u64 = 64 * KIB;
/// The token the command is given; it must appear in no state file.
const TOKEN: &str = "cli-secret-token-3f9a";

/// An emulator and the environment of a command that uses it.
struct Setup {
    emulator: Emulator,
    state: tempfile::TempDir,
}

async fn setup(tune: impl FnOnce(&mut EmulatorConfig)) -> Setup {
    let mut config = EmulatorConfig {
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(PART),
        retry_after_secs: 0,
        fault_seed: Some(3),
        token: Some(TOKEN.into()),
        ..EmulatorConfig::default()
    };
    tune(&mut config);
    let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("the emulator starts");
    Setup {
        emulator,
        state: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_box-upload"));
        command
            .args(args)
            .env("BOX_TOKEN", TOKEN)
            .env("BOX_API_URL", self.emulator.api_url())
            .env("BOX_UPLOAD_URL", self.emulator.upload_url())
            .env("XDG_STATE_HOME", self.state.path())
            .env("RUST_LOG", "warn");
        command
    }

    /// Runs the command to its end.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("the command runs"))
            .await
            .unwrap()
    }

    /// The resume state files.
    fn state_files(&self) -> Vec<PathBuf> {
        let dir = self.state.path().join("box-upload/sessions");
        match std::fs::read_dir(dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Starts the command, waits until the emulator stored `parts` parts, and kills it
    /// with SIGKILL: no handler runs, as after a crash.
    async fn kill_after(&self, args: &[&str], parts: u64) {
        let mut child = self
            .command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        // The command is another process: its progress can only be watched.
        while self.emulator.stats().parts_stored < parts {
            assert!(Instant::now() < deadline, "no progress");
            assert!(
                child.try_wait().unwrap().is_none(),
                "it ended before the kill"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

/// The JSON objects the command printed, by file name.
fn json_reports(output: &Output) -> BTreeMap<String, Value> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .map(|line| {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line:?}"));
            for field in [
                "path",
                "id",
                "name",
                "size",
                "sha1",
                "folder_id",
                "outcome",
                "seconds",
                "error",
            ] {
                assert!(value.get(field).is_some(), "{field} missing from {line}");
            }
            (value["name"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write(path: &Path, len: u64, seed: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, random_bytes(len, seed)).unwrap();
}

/// A tree with nested, empty and unusable entries arrives exactly; running the same
/// command again sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_arrives_exactly_and_a_second_run_sends_nothing() {
    let setup = setup(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("top");
    write(&top.join("a/b/deep.txt"), 3 * KIB, 1);
    write(&top.join("a/mid.bin"), 5 * PART - 100, 2);
    write(&top.join("z.txt"), 10, 3);
    std::fs::create_dir_all(top.join("empty")).unwrap();
    std::os::unix::fs::symlink(top.join("z.txt"), top.join("link")).unwrap();
    // A name Box cannot hold (not UTF-8): reported, and the rest goes on.
    let bad_name = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"bad\xffname");
    write(&top.join(bad_name), 5, 4);
    // A file that cannot be read (unless the tests run as root, who reads anything).
    let locked = top.join("locked.txt");
    write(&locked, 7, 5);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let root_reads_anything = std::fs::File::open(&locked).is_ok();

    let args = ["--json", "--concurrency", "3", "--chunked-from", "262144"];
    let mut with_top = args.to_vec();
    let top_arg = top.display().to_string();
    with_top.insert(0, &top_arg);
    let output = setup.run(&with_top).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("a symbolic link, not followed"),
        "{}",
        stderr(&output)
    );
    let reports = json_reports(&output);
    let bad = reports
        .values()
        .find(|r| r["path"].as_str().unwrap().contains("bad"))
        .expect("the bad name is reported");
    assert_eq!(bad["outcome"], "failed");
    assert!(bad["error"].as_str().unwrap().contains("UTF-8"), "{bad}");
    assert!(!reports.contains_key("link"), "a link is not uploaded");

    // The folders, created once each, the empty one included.
    let emulator = &setup.emulator;
    assert_eq!(emulator.stats().requests(Op::CreateFolder), 4);
    let top_id = emulator.create_folder("0", "top");
    let a_id = emulator.create_folder(&top_id, "a");
    let b_id = emulator.create_folder(&a_id, "b");
    emulator.create_folder(&top_id, "empty");
    assert_eq!(emulator.stats().requests(Op::CreateFolder), 4);

    let mut expected = vec![
        ("deep.txt", b_id.clone(), top.join("a/b/deep.txt")),
        ("mid.bin", a_id.clone(), top.join("a/mid.bin")),
        ("z.txt", top_id.clone(), top.join("z.txt")),
    ];
    if root_reads_anything {
        expected.push(("locked.txt", top_id.clone(), locked.clone()));
    } else {
        let report = &reports["locked.txt"];
        assert_eq!(report["outcome"], "failed", "{report}");
        assert!(
            report["error"].as_str().unwrap().contains("ermission"),
            "{report}"
        );
    }
    for (name, folder_id, path) in &expected {
        let stored = emulator.find_file(folder_id, name).expect(name);
        let sha1 = sha1_of_file(path);
        assert_eq!(stored.sha1, sha1, "{name}");
        let report = &reports[*name];
        assert_eq!(report["outcome"], "uploaded", "{report}");
        assert_eq!(report["sha1"], sha1.as_str());
        assert_eq!(report["id"], stored.id.as_str());
        assert_eq!(report["folder_id"], folder_id.as_str());
    }
    // The middle file went in parts, the others in one request each.
    assert_eq!(emulator.stats().files_committed, 1);
    assert!(setup.state_files().is_empty(), "{:?}", setup.state_files());

    // Again: every file is unchanged, and nothing is sent.
    let before = emulator.stats();
    let output = setup.run(&with_top).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let reports = json_reports(&output);
    for (name, _, _) in &expected {
        assert_eq!(reports[*name]["outcome"], "unchanged", "{}", reports[*name]);
    }
    let after = emulator.stats();
    for op in [
        Op::CreateFolder,
        Op::UploadFile,
        Op::UploadFileVersion,
        Op::CreateSession,
        Op::UploadPart,
    ] {
        assert_eq!(after.requests(op), before.requests(op), "{op:?}");
    }
    assert_eq!(after.part_bytes_received, before.part_bytes_received);
}

/// `--concurrency N` bounds the requests in flight across all files together, and small
/// files go in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_budget_bounds_requests_across_files() {
    // A little latency per request, so that requests overlap when they can.
    let setup = setup(|config| config.link_latency = Duration::from_millis(15)).await;
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("many");
    for i in 0..24 {
        write(
            &tree.join(format!("small-{i:02}.bin")),
            1 + i * 997,
            100 + i,
        );
    }
    write(&tree.join("big.bin"), 12 * PART, 99);
    let tree_arg = tree.display().to_string();
    let output = setup
        .run(&[&tree_arg, "--concurrency", "3", "--chunked-from", "262144"])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stats = setup.emulator.stats();
    assert_eq!(stats.files_uploaded, 24);
    assert_eq!(stats.files_committed, 1);
    // Never more than the budget; and several at once, so small files do not wait for
    // each other (how many overlap depends on the machine's load).
    let most = stats.max_requests_in_flight;
    assert!((2..=3).contains(&most), "{most} requests in flight at most");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("uploaded "))
            .count(),
        25,
        "{stdout}"
    );
}

/// A command killed with SIGKILL in the middle of a chunked upload, at concurrency 2.
struct Killed {
    setup: Setup,
    source: PathBuf,
    _dir: tempfile::TempDir,
}

impl Killed {
    /// Uploads `name`, `parts` parts of seeded bytes, over a slow link (so that the kill
    /// comes mid-upload), and kills the command once `stored` parts are stored.
    async fn upload(name: &str, parts: u64, stored: u64) -> Killed {
        let setup = setup(|config| config.link_bandwidth = Some(1024 * 1024)).await;
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join(name);
        write(&source, parts * PART, parts);
        let killed = Killed {
            setup,
            source,
            _dir: dir,
        };
        killed.setup.kill_after(&killed.args(), stored).await;
        killed
    }

    /// The command line, the same for the killed run and the next one.
    fn args(&self) -> Vec<&str> {
        let source = self.source.to_str().unwrap();
        vec![
            source,
            "--json",
            "--concurrency",
            "2",
            "--chunked-from",
            "65536",
        ]
    }
}

/// After `kill -9` mid-upload, the same command finds the session in the state
/// directory and sends only the parts that were not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_resumes_and_resends_at_most_the_parts_in_flight() {
    let killed = Killed::upload("video.bin", 48, 12).await;
    let (setup, source) = (&killed.setup, &killed.source);

    let states = setup.state_files();
    assert_eq!(states.len(), 1, "one state file");
    let text = std::fs::read_to_string(&states[0]).unwrap();
    assert!(!text.contains(TOKEN), "no token in {text}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&states[0]).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let [session_id] = <[String; 1]>::try_from(setup.emulator.open_sessions()).unwrap();
    assert!(text.contains(&session_id), "{text}");

    let output = setup.run(&killed.args()).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = &json_reports(&output)["video.bin"];
    assert_eq!(report["outcome"], "uploaded");
    assert_eq!(report["sha1"], sha1_of_file(source).as_str());
    assert!(
        report["notes"]
            .to_string()
            .contains(&format!("resumed session {session_id}")),
        "{report}"
    );
    let stats = setup.emulator.stats();
    assert_eq!(stats.requests(Op::CreateSession), 1, "no second session");
    let mut resent = 0;
    for part in 0..48 {
        match stats.part_uploads_at(&session_id, part * PART) {
            1 => {}
            2 => resent += 1,
            n => panic!("part {part} sent {n} times"),
        }
    }
    assert!(
        resent <= 2,
        "{resent} parts sent again; 2 were in flight at most"
    );
    assert!(setup.state_files().is_empty(), "the entry is removed");
    assert!(setup.emulator.open_sessions().is_empty());
}

/// A source that changed after the kill is not resumed: a new upload, and the output
/// says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_source_is_not_resumed() {
    let killed = Killed::upload("data.bin", 32, 4).await;
    let (setup, source) = (&killed.setup, &killed.source);
    let [old] = <[String; 1]>::try_from(setup.emulator.open_sessions()).unwrap();

    // Other bytes, same size, another modification time.
    write(source, 32 * PART, 9);
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(source)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let output = setup.run(&killed.args()).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = &json_reports(&output)["data.bin"];
    assert_eq!(report["sha1"], sha1_of_file(source).as_str());
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!("not resuming session {old}")),
        "{notes}"
    );
    assert!(notes.contains("it was modified since"), "{notes}");
    assert_eq!(setup.emulator.stats().requests(Op::CreateSession), 2);
    assert!(
        setup.emulator.open_sessions().is_empty(),
        "the old session is aborted"
    );
    assert!(setup.state_files().is_empty());
}

/// Exit codes: 0 when every file ended well, 2 for a wrong command line, 3 when the
/// destination cannot be read; the summary names each file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_how_the_run_ended() {
    let setup = setup(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    write(&a, 100, 1);
    write(&b, 200, 2);
    let (a_arg, b_arg) = (a.display().to_string(), b.display().to_string());

    let output = setup.run(&[&a_arg, &b_arg, "--name", "x.txt"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--name takes exactly one PATH"));
    let output = setup.run(&[&a_arg, "--concurrency", "0"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    let output = setup.run(&[&a_arg, "--folder", "424242"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("folder 424242"),
        "{}",
        stderr(&output)
    );

    let output = setup.run(&[&a_arg, &b_arg]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (line, path, source) in [(lines[0], &a_arg, &a), (lines[1], &b_arg, &b)] {
        assert!(line.starts_with("uploaded "), "{line}");
        assert!(line.ends_with(path.as_str()), "{line}");
        assert!(line.contains(&sha1_of_file(source)), "{line}");
    }
    // The same name with other content fails by default, with the reason.
    write(&a, 100, 3);
    let output = setup.run(&[&a_arg, "--json"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = &json_reports(&output)["a.txt"];
    assert_eq!(report["outcome"], "failed");
    assert!(
        report["error"].as_str().unwrap().contains("--on-conflict"),
        "{report}"
    );
    let output = setup
        .run(&[&a_arg, "--json", "--on-conflict", "new-version"])
        .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_reports(&output)["a.txt"]["outcome"], "new version");
}

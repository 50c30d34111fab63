//! Box's official Python SDK (PyPI `boxsdk`, pinned), unchanged, against the emulator: the
//! emulator is checked against Box's own client, not only against our reading of the spec.
//!
//! The SDK (with `pyjwt` and `cryptography`, which its JWT auth needs, all pinned) is
//! installed on first use with `python3 -m pip install --target` under the target directory
//! (`CARGO_TARGET_TMPDIR`), so a fresh machine with python3 and pip needs nothing else. Each test starts an emulator, runs one scenario of
//! `tests/python/box_sdk_scenarios.py` (whose asserts check what the SDK returns), then
//! checks the emulator's store against what the script reports.

mod common;
#[path = "common/oauth.rs"]
mod oauth;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use box_emulator::{Emulator, EmulatorConfig, Grant, PartSizePolicy};
use common::*;
use serde_json::Value;

/// The SDK release the scenarios are written for, and what its JWT auth imports (the SDK
/// lists them as its `jwt` extra, unpinned).
const PACKAGES: [&str; 3] = ["boxsdk==10.18.0", "pyjwt==2.15.1", "cryptography==50.0.2"];

/// Where the pinned SDK is installed; installs it once per test run if it is not there.
fn sdk_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let name = PACKAGES.join("-").replace("==", "-");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        if dir.join("box_sdk_gen").is_dir() {
            return dir;
        }
        // Installed beside, then renamed: an interrupted install is never taken for one.
        let partial = dir.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        let output = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "--target"])
            .arg(&partial)
            .args(PACKAGES)
            .env("PIP_ROOT_USER_ACTION", "ignore")
            .output()
            .unwrap_or_else(|e| {
                panic!("the Python SDK test needs python3 with pip; running python3 failed: {e}")
            });
        assert!(
            output.status.success(),
            "`python3 -m pip install --target {} {}` failed ({}); the Python SDK test needs \
             pip and access to PyPI:\n{}",
            partial.display(),
            PACKAGES.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        if std::fs::rename(&partial, &dir).is_err() {
            // Another run installed it meanwhile.
            let _ = std::fs::remove_dir_all(&partial);
        }
        dir
    })
}

/// Runs one scenario against `emulator` with `credential` (a developer token or a Box app
/// config's path); returns what it printed (asserting it succeeded).
fn run_scenario(emulator: &Emulator, scenario: &str, credential: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/box_sdk_scenarios.py");
    let base_url = format!("http://{}", emulator.addr());
    let output = Command::new("python3")
        .arg(&script)
        .args([scenario, &base_url, credential])
        .env("PYTHONPATH", sdk_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "scenario {scenario} failed ({}):\n{}\n{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Runs a scenario: the SDK is a blocking child process, and the emulator in this process
/// keeps serving on the runtime's other threads meanwhile.
async fn scenario(emulator: &Emulator, name: &str) -> Value {
    scenario_with(emulator, name, TOKEN).await
}

async fn scenario_with(emulator: &Emulator, name: &str, credential: &str) -> Value {
    tokio::task::block_in_place(|| run_scenario(emulator, name, credential))
}

fn sdk_config() -> EmulatorConfig {
    EmulatorConfig {
        min_file_size: 1,
        part_size: PartSizePolicy::Fixed(64 * 1024),
        ..small_config()
    }
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_file_new_version_and_preflight() {
    let emulator = start(sdk_config()).await;
    let result = scenario(&emulator, "upload").await;

    let small = emulator
        .committed_file(str_of(&result["small"], "id"))
        .expect("the uploaded file");
    assert_eq!(small.name, "renamed.bin");
    assert_eq!(small.sha1, str_of(&result["small"], "sha1"));
    assert_eq!(small.version_number, 2, "one new version");
    assert_eq!(sha1_hex(&small.read().unwrap()), small.sha1);
    let empty = emulator
        .committed_file(str_of(&result["empty"], "id"))
        .expect("the empty file");
    assert_eq!(
        (empty.size, empty.sha1.as_str()),
        (0, str_of(&result["empty"], "sha1"))
    );
    let later = emulator
        .find_file("0", "later.bin")
        .expect("uploaded after preflight");
    assert_eq!(later.sha1, str_of(&result["later"], "sha1"));
    assert!(
        emulator.find_file("0", "corrupt.bin").is_none(),
        "a bad digest stores nothing"
    );
    let stats = emulator.stats();
    assert_eq!(stats.files_uploaded, 4);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_big_file_with_the_sdks_chunked_helper() {
    let emulator = start(sdk_config()).await;
    let result = scenario(&emulator, "chunked").await;
    let file = emulator
        .committed_file(str_of(&result, "id"))
        .expect("the committed file");
    assert_eq!(file.parent_id, str_of(&result, "folder"));
    assert_eq!(file.sha1, str_of(&result, "sha1"));
    assert_eq!(file.size, 300_007);
    assert_eq!(sha1_hex(&file.read().unwrap()), file.sha1);
    let stats = emulator.stats();
    assert_eq!(stats.parts_stored, 5, "300,007 bytes in 64 KiB parts");
    assert_eq!(stats.files_committed, 1);
    assert!(emulator.open_sessions().is_empty());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_folders_and_page_through_their_items() {
    let emulator = start(sdk_config()).await;
    let result = scenario(&emulator, "folders").await;
    let folder = str_of(&result, "folder");
    for name in result["names"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        if name.starts_with("file") {
            let file = emulator
                .find_file(folder, name)
                .expect("file in the folder");
            assert_eq!(file.parent_id, folder);
        } else {
            // The fixture returns an existing folder's id rather than creating another.
            let id = emulator.create_folder(folder, name);
            assert_ne!(id, folder);
        }
    }
    assert_eq!(emulator.create_folder("0", "Projects"), folder);
    emulator.shutdown().await;
}

/// Asserts that the SDK's upload `result` (`id`, `sha1`) is stored in the root as `name`.
fn assert_uploaded(emulator: &Emulator, result: &Value, name: &str) {
    let file = emulator
        .committed_file(str_of(result, "id"))
        .unwrap_or_else(|| panic!("{name} stored"));
    assert_eq!((file.name.as_str(), file.parent_id.as_str()), (name, "0"));
    assert_eq!(file.sha1, str_of(result, "sha1"));
    assert_eq!(sha1_hex(&file.read().unwrap()), file.sha1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_auth_gets_tokens_and_revokes_them() {
    let emulator = start(oauth::oauth_config()).await;
    let config = oauth::fixture("test-only-box-config.json");
    let result = scenario_with(&emulator, "ccg", config.to_str().unwrap()).await;
    assert_uploaded(&emulator, &result["enterprise"], "ccg-enterprise.bin");
    assert_uploaded(&emulator, &result["again"], "ccg-after-revoke.bin");
    assert_uploaded(&emulator, &result["user"], "ccg-user.bin");
    let stats = emulator.stats();
    // The enterprise's token, its replacement after the revocation, the user's.
    assert_eq!(stats.grants(Grant::ClientCredentials), 3);
    assert_eq!(stats.all_grants(), 3);
    assert_eq!(stats.revocations, 1);
    assert_eq!((stats.grants_refused, stats.unauthorized), (0, 0));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_auth_from_a_box_app_config_gets_tokens() {
    let emulator = start(oauth::oauth_config()).await;
    let config = oauth::fixture("test-only-box-config.json");
    let result = scenario_with(&emulator, "jwt", config.to_str().unwrap()).await;
    assert_uploaded(&emulator, &result["enterprise"], "jwt-enterprise.bin");
    assert_uploaded(&emulator, &result["user"], "jwt-user.bin");
    let stats = emulator.stats();
    assert_eq!(stats.grants(Grant::JwtBearer), 2, "one per subject");
    assert_eq!((stats.grants_refused, stats.unauthorized), (0, 0));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_makes_the_sdk_ask_for_a_new_one() {
    let emulator = start(EmulatorConfig {
        // EXPIRY_TTL_SECS of the scenario.
        token_ttl: std::time::Duration::from_secs(3),
        ..oauth::oauth_config()
    })
    .await;
    let config = oauth::fixture("test-only-box-config.json");
    let result = scenario_with(&emulator, "ccg_expiry", config.to_str().unwrap()).await;
    assert_uploaded(&emulator, &result["before"], "before-expiry.bin");
    assert_uploaded(&emulator, &result["after"], "after-expiry.bin");
    let stats = emulator.stats();
    // One 401 for the expired token, then one grant for the rest.
    assert_eq!((stats.unauthorized, stats.expired_tokens), (1, 1));
    assert_eq!(stats.grants(Grant::ClientCredentials), 2);
    emulator.shutdown().await;
}

//! Secrets: a whole upload logged at TRACE never shows the token, nor do `Debug` and
//! `Display` of the client, the uploader, the config and the errors.

use std::io::Write;
use std::sync::{Arc, Mutex};

use box_emulator::{FaultAction, FaultRule, Op};
use box_upload::{Client, Config, servers};

#[path = "../../upload/tests/common/mod.rs"]
mod common;
use common::{MIB, SourceFile, fixture};

const TOKEN: &str = "tok-S3CRET-5f1d2c9a";

/// A tracing writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Asserts that `text` holds neither the token nor an `Authorization` value.
fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(TOKEN), "{what} holds the token:\n{text}");
    assert!(
        !text.contains("S3CRET"),
        "{what} holds part of the token:\n{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("bearer tok"),
        "{what} holds an Authorization value:\n{text}"
    );
}

/// A whole upload, with retried faults and a failed one, logged at TRACE by every crate
/// (runtime, engine, reqwest, hyper, the emulator): the token is nowhere in the log, nor in
/// the `Debug` and `Display` of the client, the uploader and the errors.
///
/// The only test of this file: its subscriber is the process's global one, so that events of
/// every thread are captured (a thread-scoped subscriber misses callsites that other tests'
/// threads registered first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_upload_never_shows_the_token() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let fx = fixture(MIB, |config| config.token = Some(TOKEN.to_string())).await;
    let client = Client::new(
        Config::bearer(TOKEN)
            .base_url(&servers::UPLOAD, fx.emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, fx.emulator.upload_url())
            .base_url(&servers::API, fx.emulator.api_url()),
    )
    .unwrap();
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::UploadPart, FaultAction::status(503)).times(1));
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::Commit, FaultAction::status(500)).times(1));
    let source = SourceFile::new(3 * MIB + 17, 41);
    let uploader = box_upload::Uploader::new(client.clone())
        .min_file_size(1)
        .direct_upload_threshold(0)
        .retry_pause(std::time::Duration::from_millis(10));
    let file = uploader
        .upload_path(source.path(), "0", "traced.bin")
        .await
        .expect("the upload commits");
    fx.assert_committed(&file, &source);

    // A failing call: the same token, refused by a server that wants another.
    let wrong = fixture(MIB, |config| config.token = Some("another".into())).await;
    let refused = Client::new(
        Config::bearer(TOKEN)
            .base_url(&servers::UPLOAD, wrong.emulator.upload_url())
            .base_url(&servers::UPLOAD_SESSION, wrong.emulator.upload_url())
            .base_url(&servers::API, wrong.emulator.api_url()),
    )
    .unwrap();
    let error = box_upload::Uploader::new(refused)
        .min_file_size(1)
        .direct_upload_threshold(0)
        .upload_path(source.path(), "0", "refused.bin")
        .await
        .expect_err("a wrong token is refused");
    assert!(error.to_string().contains("401"), "{error}");

    let log = capture.text();
    assert!(log.contains("TRACE"), "TRACE events were captured:\n{log}");
    assert!(log.contains("session created"), "{log}");
    assert!(log.contains("put_files_upload_sessions_id"), "{log}");
    assert_no_secret("the TRACE log", &log);
    assert_no_secret("the error", &format!("{error} {error:?}"));
    assert_no_secret("the client", &format!("{client:?}"));
    assert_no_secret("the uploader", &format!("{uploader:?}"));
    assert_no_secret(
        "the config",
        &format!("{:?}", Config::bearer(TOKEN).trust_host("x.example.com")),
    );
}

//! Trust: the token is sent only to hosts the client trusts, whatever URLs a server hands
//! out (the token's absence from logs is `trace_secrets.rs`).

use box_emulator::{FaultAction, FaultRule, Op};
use box_upload::{Client, Config, UploadError, servers};

mod common;
use common::{MIB, SourceFile, fixture};

/// A server whose `session_endpoints` point at another host: nothing is sent there, the
/// error says why, and the session is aborted at the configured server.
#[tokio::test]
async fn session_endpoints_on_an_untrusted_host_are_refused() {
    let fx = fixture(MIB, |config| {
        config.session_endpoints_base = Some("https://uploads.evil.example/api/2.0".into());
    })
    .await;
    let source = SourceFile::new(2 * MIB, 42);
    let error = fx
        .uploader()
        .upload_path(source.path(), "0", "x.bin")
        .await
        .expect_err("untrusted endpoints");
    let UploadError::UntrustedEndpoint {
        session_id,
        endpoint,
        ..
    } = &error
    else {
        panic!("expected UntrustedEndpoint, got {error:?}");
    };
    assert_eq!(*endpoint, "upload_part");
    let message = error.to_string();
    for needle in [
        session_id.as_str(),
        "refusing to send the access token",
        "\"uploads.evil.example\" is not trusted",
        "Config::trust_host",
        "nothing was sent",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    let stats = fx.emulator.stats();
    assert_eq!(stats.requests(Op::UploadPart), 0);
    assert_eq!(
        stats.requests(Op::Abort),
        1,
        "aborted at the configured server"
    );
    assert!(fx.emulator.open_sessions().is_empty());
}

/// When that abort fails, the error says the session was kept, and why.
#[tokio::test]
async fn a_failed_abort_of_a_refused_session_is_reported() {
    let fx = fixture(MIB, |config| {
        config.session_endpoints_base = Some("https://uploads.evil.example/api/2.0".into());
    })
    .await;
    fx.emulator
        .faults()
        .add(FaultRule::new(Op::Abort, FaultAction::status(400)));
    let source = SourceFile::new(2 * MIB, 44);
    let error = fx
        .uploader()
        .upload_path(source.path(), "0", "x.bin")
        .await
        .expect_err("untrusted endpoints");
    let UploadError::SessionKept {
        session_id,
        abort_error: Some(abort_error),
        ..
    } = &error
    else {
        panic!("expected SessionKept with an abort error, got {error:?}");
    };
    assert!(
        matches!(error.cause(), UploadError::UntrustedEndpoint { .. }),
        "{error:?}"
    );
    assert!(abort_error.to_string().contains("400"), "{abort_error}");
    assert_eq!(fx.emulator.open_sessions(), vec![session_id.clone()]);
    assert_eq!(fx.emulator.stats().requests(Op::UploadPart), 0);
}

/// A trusted host over plain http is refused too, unless the user opts in.
#[tokio::test]
async fn session_endpoints_over_plain_http_are_refused() {
    let fx = fixture(MIB, |config| {
        config.session_endpoints_base = Some("http://files.example.com/api/2.0".into());
    })
    .await;
    let config = Config::bearer("t")
        .base_url(&servers::UPLOAD, fx.emulator.upload_url())
        .base_url(&servers::UPLOAD_SESSION, fx.emulator.upload_url())
        .base_url(&servers::API, fx.emulator.api_url())
        .trust_host("files.example.com");
    let source = SourceFile::new(2 * MIB, 43);
    let error = box_upload::Uploader::new(Client::new(config).unwrap())
        .min_file_size(1)
        .direct_upload_threshold(0)
        .upload_path(source.path(), "0", "x.bin")
        .await
        .expect_err("plain http");
    assert!(
        matches!(error, UploadError::UntrustedEndpoint { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("plain http"), "{error}");
    assert!(
        error.to_string().contains("Config::allow_insecure_http"),
        "{error}"
    );
    assert_eq!(fx.emulator.stats().requests(Op::UploadPart), 0);
    assert!(fx.emulator.open_sessions().is_empty());
}

/// Box's own hosts are trusted by default: the upload host of the templates and the
/// regional upload hosts that the generator config lists.
#[test]
fn box_upload_hosts_are_trusted_by_default() {
    let client = Client::new(Config::bearer("t")).unwrap();
    let runtime = client.runtime();
    let op = &box_upload::operations::UPLOAD_PART;
    for url in [
        "https://upload.box.com/api/2.0/files/upload_sessions/S",
        "https://upload-las.app.box.com/api/2.0/files/upload_sessions/S",
    ] {
        runtime.endpoint_at(op, url).unwrap();
    }
    for url in [
        "https://upload.box.com.evil.example/api/2.0/files/upload_sessions/S",
        "http://upload.box.com/api/2.0/files/upload_sessions/S",
        "https://api.evil.example/api/2.0/files/upload_sessions/S",
        "https://app.box.com.evil.example/x",
    ] {
        let error = runtime.endpoint_at(op, url).unwrap_err();
        assert!(
            error
                .message()
                .contains("refusing to send the access token"),
            "{url}: {error}"
        );
    }
}

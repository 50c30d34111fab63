//! The emulator as a server others run: slow, idle and hostile clients are bounded, the
//! `Host` check keeps web pages out, and nothing grows with what clients send.

mod common;

use std::time::Duration;

use box_emulator::EmulatorConfig;
use common::*;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; `None` if it has not within `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test]
async fn slow_headers_and_silent_connections_are_closed() {
    let emulator = start(EmulatorConfig {
        header_read_timeout: Duration::from_millis(300),
        ..small_config()
    })
    .await;
    // Half a request, then nothing.
    let mut slow = TcpStream::connect(emulator.addr()).await.unwrap();
    slow.write_all(b"GET /2.0/folders/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(5))
            .await
            .is_some(),
        "a client that never finishes its headers is cut off"
    );
    // Nothing at all.
    let mut silent = TcpStream::connect(emulator.addr()).await.unwrap();
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(5))
            .await
            .is_some(),
        "a connection that sends no request is cut off"
    );
    // A prompt client is served.
    Api::new(&emulator).get("/folders/0").await.ok(200);
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_and_the_connection_closes() {
    let emulator = start(EmulatorConfig {
        body_idle_timeout: Duration::from_millis(300),
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let session = api.create_session("0", "stall.bin", 1000).await;
    let id = session["id"].as_str().unwrap();
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    let head = format!(
        "PUT /api/2.0/files/upload_sessions/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Range: bytes 0-999/1000\r\n\
         Digest: {}\r\nContent-Length: 1000\r\n\r\n",
        digest(&[0u8; 1000])
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[0u8; 100]).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the emulator gives up on the body and closes");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert_eq!(emulator.stats().parts_stored, 0);
    // A multipart body that stops arriving, the same.
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    let head = format!(
        "POST /api/2.0/files/content HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: multipart/form-data; boundary=XX\r\n\
         Content-Length: 100000\r\n\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let emulator = start(EmulatorConfig {
        max_connections: 1,
        ..small_config()
    })
    .await;
    // One client holds the only slot (its headers are unfinished).
    let mut holder = TcpStream::connect(emulator.addr()).await.unwrap();
    holder
        .write_all(b"GET /2.0/folders/0 HTTP/1.1\r\n")
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let url = format!("{}/folders/0", emulator.api_url());
    let refused = http.get(&url).bearer_auth(TOKEN).send().await;
    assert!(refused.is_err(), "served beyond the limit: {refused:?}");
    drop(holder);
    let served = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(answer) = http.get(&url).bearer_auth(TOKEN).send().await {
                break answer.status().as_u16();
            }
        }
    })
    .await
    .expect("served once the slot is free");
    assert_eq!(served, 200);
}

#[tokio::test]
async fn hosts_other_than_the_emulators_names_are_misdirected() {
    let emulator = start(EmulatorConfig {
        allowed_hosts: vec!["box.test".to_string()],
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let port = emulator.addr().port();
    let url = format!("{}/folders/0", emulator.api_url());
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "localhost.evil",
    ] {
        let answer = api
            .send(api.request(Method::GET, &url).header("host", host))
            .await;
        let body = answer.error(421, "misdirected_request");
        assert!(
            body["message"].as_str().unwrap().contains("--allow-host"),
            "{body}"
        );
    }
    // Refused before anything else: the token is not even looked at.
    let answer = Answer::read(
        client()
            .get(&url)
            .header("host", "evil.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    answer.error(421, "misdirected_request");
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "BOX.test".to_string(),
    ] {
        api.send(api.request(Method::GET, &url).header("host", host))
            .await
            .ok(200);
    }
    assert_eq!(emulator.stats().misdirected, 4);
    // No Host at all (HTTP/1.0 allows that).
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    stream
        .write_all(b"GET /2.0/folders/0 HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
    assert!(answer.contains("no Host header"), "{answer}");
}

#[tokio::test]
async fn the_part_log_keeps_only_real_sessions_and_is_capped() {
    let emulator = start(EmulatorConfig {
        part_log_limit: 3,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let unknown = json!({"session_endpoints": {"upload_part": format!("{}/files/upload_sessions/{}", emulator.upload_url(), "F".repeat(32))}});
    for _ in 0..20 {
        api.put_part(&unknown, b"abc", 0, 3)
            .await
            .error(404, "not_found");
    }
    assert!(emulator.stats().part_uploads.is_empty());
    let file = data(5 * 1024, 5);
    let session = api.create_session("0", "log.bin", file.len()).await;
    api.put_all(&session, &file).await;
    let stats = emulator.stats();
    let offsets: Vec<_> = stats.part_uploads.iter().map(|u| u.offset).collect();
    assert_eq!(offsets, [Some(2048), Some(3072), Some(4096)]);
    assert!(stats.part_uploads.iter().all(|u| u.status == Some(200)));
    assert_eq!(stats.part_uploads_dropped, 2);
    assert_eq!(stats.parts_stored, 5);
}

#[tokio::test]
async fn an_empty_file_through_a_session_with_no_minimum_size() {
    let emulator = start(EmulatorConfig {
        min_file_size: 0,
        ..small_config()
    })
    .await;
    let api = Api::new(&emulator);
    let session = api.create_session("0", "nothing", 0).await;
    assert_eq!(session["total_parts"], 0);
    // Any part is past the end of an empty file: a refusal, not a crash.
    let body = api
        .put_part(&session, b"x", 0, 0)
        .await
        .error(416, "range_not_satisfiable");
    assert_eq!(body["context_info"]["reason"], "past_end");
    let files = api.commit(&session, &[], b"").await.ok(201);
    assert_eq!(files["entries"][0]["size"], 0);
    assert_eq!(files["entries"][0]["sha1"], sha1_hex(b""));
}

/// How many threads a process has.
fn threads_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| tasks.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn sessions_waiting_for_parts_hold_no_threads() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("skipped: no /proc to count threads with");
        return;
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_box-emulator"))
        .args([
            "--token",
            TOKEN,
            "--min-file-size",
            "1",
            "--part-size",
            "1024",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut buffer = [0u8; 256];
    while !out.contains("upload ") || !out.ends_with('\n') {
        use std::io::Read;
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "the binary said: {out}");
        out.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    let upload = out
        .lines()
        .find_map(|l| l.strip_prefix("upload "))
        .unwrap()
        .to_string();
    let api = Api {
        http: client(),
        upload: upload.clone(),
        api: upload.replace("/api/2.0", "/2.0"),
        token: TOKEN.to_string(),
    };
    let before = threads_of(child.id());
    // 64 sessions that each got their first part and then nothing.
    let file = data(2048, 6);
    for i in 0..64 {
        let session = api.create_session("0", &format!("wait-{i}"), 2048).await;
        api.put_part(&session, &file[..1024], 0, 2048).await.ok(200);
    }
    let after = threads_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        after < before + 16,
        "threads grew from {before} to {after} with 64 waiting sessions"
    );
}

#[tokio::test]
async fn the_binary_takes_the_new_limits() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_box-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--quota",
        "--unchanged-version",
        "--header-timeout",
        "--body-idle-timeout",
        "--max-connections",
        "--allow-host",
    ] {
        assert!(help.contains(flag), "{flag} is not in --help:\n{help}");
    }
}

//! End to end: the direct-upload, preflight and folder operations of the generated client
//! (`upload_file`, `upload_file_version`, `preflight_file_upload`, `create_folder`,
//! `get_folder`, `list_folder_items`) against the in-process emulator, on their success
//! and error paths. The upload-session operations are in `e2e.rs`.

#[path = "../../emulator/tests/common/mod.rs"]
mod common;

use box_api::{
    Client, Config, CreateFolderBody, CreateFolderBodyParent, CreateFolderRequest, Files,
    GetFolderRequest, GetFolderResponse, Item, ListFolderItemsRequest, PreflightFileUploadBody,
    PreflightFileUploadBodyParent, RetryPolicy, UploadFileBodyAttributes,
    UploadFileBodyAttributesParent, UploadFileRequest, UploadFileVersionBodyAttributes,
    UploadFileVersionRequest, servers,
};
use box_emulator::{Emulator, EmulatorConfig};
use common::{TOKEN, data, sha1_hex, small_config, start};
use oas_runtime::{Error, FilePart};
use serde_json::Value;

/// A client of `emulator` with `token`, every server at the emulator, no retries.
fn client_for(emulator: &Emulator, token: &str) -> Client {
    let config = Config::bearer(token)
        .base_url(&servers::API, emulator.api_url())
        .base_url(&servers::UPLOAD, emulator.upload_url())
        .base_url(&servers::UPLOAD_SESSION, emulator.upload_url())
        .retry(RetryPolicy::none());
    Client::new(config).expect("the client builds")
}

async fn setup(config: EmulatorConfig) -> (Emulator, Client) {
    let emulator = start(config).await;
    let client = client_for(&emulator, TOKEN);
    (emulator, client)
}

/// A direct upload of `content` as `name` in `folder_id`, with `content-md5` as given.
fn upload(folder_id: &str, name: &str, content: &[u8], md5: Option<String>) -> UploadFileRequest {
    UploadFileRequest {
        fields: None,
        content_md5: md5,
        attributes: UploadFileBodyAttributes {
            name: name.into(),
            parent: UploadFileBodyAttributesParent {
                id: folder_id.into(),
            },
            content_created_at: None,
            content_modified_at: Some("2024-05-06T07:08:09+02:00".parse().unwrap()),
        },
        file: FilePart::from_bytes(content.to_vec(), name),
    }
}

fn version(content: &[u8], if_match: Option<&str>, name: Option<&str>) -> UploadFileVersionRequest {
    UploadFileVersionRequest {
        fields: None,
        if_match: if_match.map(str::to_string),
        content_md5: Some(sha1_hex(content)),
        attributes: UploadFileVersionBodyAttributes {
            name: name.map(str::to_string),
            content_modified_at: None,
        },
        file: FilePart::from_bytes(content.to_vec(), "v.bin"),
    }
}

fn preflight(folder_id: &str, name: &str, size: i64) -> PreflightFileUploadBody {
    PreflightFileUploadBody {
        name: Some(name.into()),
        size: Some(size),
        parent: Some(PreflightFileUploadBodyParent {
            id: Some(folder_id.into()),
        }),
    }
}

fn folder(parent: &str, name: &str) -> CreateFolderRequest {
    CreateFolderRequest {
        fields: None,
        body: CreateFolderBody {
            name: name.into(),
            parent: CreateFolderBodyParent { id: parent.into() },
            folder_upload_email: None,
            sync_state: None,
        },
    }
}

/// The first page of a folder, as asked with no options.
fn whole_folder() -> GetFolderRequest {
    GetFolderRequest {
        fields: None,
        sort: None,
        direction: None,
        offset: None,
        limit: None,
        if_none_match: None,
        boxapi: None,
    }
}

/// A page of a folder's items.
fn items_page(offset: Option<i64>, limit: Option<i64>) -> ListFolderItemsRequest {
    ListFolderItemsRequest {
        fields: None,
        usemarker: None,
        marker: None,
        offset,
        limit,
        sort: None,
        direction: None,
        boxapi: None,
    }
}

/// The status and the `code` of an error's body (any error type of the client).
fn status_and_code<E>(error: &Error<E>) -> (u16, String) {
    let api = error
        .api()
        .unwrap_or_else(|| panic!("an API error expected"));
    let body: Value = serde_json::from_slice(&api.raw_body).expect("a JSON error body");
    let code = body["code"].as_str().unwrap_or_default().to_string();
    (api.status.as_u16(), code)
}

/// The raw JSON body of an API error.
fn body_of<E>(error: &Error<E>) -> Value {
    serde_json::from_slice(&error.api().expect("an API error").raw_body).unwrap()
}

fn only_file(files: &Files) -> &box_api::FileFull {
    let entries = files.entries.as_ref().expect("entries");
    assert_eq!(entries.len(), 1);
    &entries[0]
}

#[tokio::test]
async fn upload_file_creates_the_file_and_checks_its_digest() {
    let (emulator, client) = setup(small_config()).await;
    let content = data(3000, 1);
    let files = client
        .upload_file(upload("0", "a.bin", &content, Some(sha1_hex(&content))))
        .await
        .expect("201");
    let file = only_file(&files);
    assert_eq!(file.name.as_deref(), Some("a.bin"));
    assert_eq!(file.size, Some(3000));
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&content).as_str()));
    assert_eq!(
        file.content_modified_at.map(|t| t.timestamp()),
        Some(1_714_972_089)
    );
    assert_eq!(
        emulator.committed_file(&file.id).unwrap().read().unwrap(),
        content
    );

    // An empty file, without content-md5.
    let files = client
        .upload_file(upload("0", "empty.bin", b"", None))
        .await
        .expect("an empty file");
    assert_eq!(only_file(&files).size, Some(0));

    // A content-md5 that is not the content's SHA-1.
    let error = client
        .upload_file(upload("0", "b.bin", &content, Some(sha1_hex(b"other"))))
        .await
        .expect_err("bad digest");
    assert_eq!(status_and_code(&error), (400, "bad_digest".into()));
    assert!(emulator.find_file("0", "b.bin").is_none());

    // No such folder; a taken name, whose conflict is one object naming the file.
    let error = client
        .upload_file(upload("424242", "c.bin", &content, None))
        .await
        .expect_err("no folder");
    assert_eq!(status_and_code(&error), (404, "not_found".into()));
    let error = client
        .upload_file(upload("0", "A.BIN", &content, None))
        .await
        .expect_err("taken");
    assert_eq!(status_and_code(&error), (409, "item_name_in_use".into()));
    let conflict = &body_of(&error)["context_info"]["conflicts"];
    assert_eq!(conflict["id"], Value::String(file.id.clone()));
    assert_eq!(conflict["sha1"], Value::String(sha1_hex(&content)));
}

#[tokio::test]
async fn upload_file_version_replaces_the_content_at_the_etag() {
    let (emulator, client) = setup(small_config()).await;
    let old = emulator.create_file("0", "doc.bin", b"first");
    let content = data(2000, 2);
    let files = client
        .upload_file_version(&old.id, version(&content, Some(&old.etag), None))
        .await
        .expect("200");
    let file = only_file(&files);
    assert_eq!(file.id, old.id);
    assert_eq!(file.name.as_deref(), Some("doc.bin"), "the name is kept");
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&content).as_str()));
    let stored = emulator.committed_file(&old.id).unwrap();
    assert_eq!(
        (stored.version_number, stored.read().unwrap()),
        (2, content.clone())
    );

    // The etag it was sent with is gone: 412, and nothing changes.
    let error = client
        .upload_file_version(&old.id, version(b"third", Some(&old.etag), None))
        .await
        .expect_err("stale etag");
    assert_eq!(status_and_code(&error), (412, "precondition_failed".into()));
    assert_eq!(emulator.committed_file(&old.id).unwrap().version_number, 2);

    // A rename with the version; an unknown file.
    let files = client
        .upload_file_version(&old.id, version(b"third", None, Some("doc-v3.bin")))
        .await
        .expect("renamed");
    assert_eq!(only_file(&files).name.as_deref(), Some("doc-v3.bin"));
    let error = client
        .upload_file_version("999999", version(b"x", None, None))
        .await
        .expect_err("no file");
    assert_eq!(status_and_code(&error), (404, "not_found".into()));
}

#[tokio::test]
async fn preflight_file_upload_answers_before_any_content() {
    let config = EmulatorConfig {
        quota: Some(10_000),
        ..small_config()
    };
    let (emulator, client) = setup(config).await;
    let taken = emulator.create_file("0", "taken.bin", b"in the way");
    let accepted = client
        .preflight_file_upload(&preflight("0", "new.bin", 5000))
        .await
        .expect("200");
    let upload_url = accepted.upload_url.expect("an upload URL");
    assert!(upload_url.ends_with("/files/content"), "{upload_url}");
    let token = accepted.upload_token.expect("an upload token");

    // The upload token works as a bearer token for the upload.
    let with_token = client_for(&emulator, &token);
    let content = data(100, 3);
    let files = with_token
        .upload_file(upload("0", "new.bin", &content, None))
        .await
        .expect("the upload token is accepted");
    assert_eq!(only_file(&files).size, Some(100));

    let cases = [
        (preflight("0", "TAKEN.bin", 10), 409, "item_name_in_use"),
        (preflight("424242", "x.bin", 10), 404, "not_found"),
        (
            preflight("0", "big.bin", 1_000_000),
            403,
            "storage_limit_exceeded",
        ),
    ];
    for (body, status, code) in cases {
        let error: Error<Value> = client.preflight_file_upload(&body).await.expect_err(code);
        assert_eq!(status_and_code(&error), (status, code.to_string()));
    }
    let error = client
        .preflight_file_upload(&preflight("0", "taken.bin", 10))
        .await
        .expect_err("taken");
    assert_eq!(
        body_of(&error)["context_info"]["conflicts"]["id"],
        Value::String(taken.id)
    );
    // Sizes past 2 GiB are 64-bit (the overlay): a refusal by quota, not a decode error.
    let error = client
        .preflight_file_upload(&preflight("0", "huge.bin", 5_000_000_000))
        .await
        .expect_err("over quota");
    assert_eq!(status_and_code(&error).0, 403);
}

#[tokio::test]
async fn folders_are_created_read_and_listed() {
    let (emulator, client) = setup(small_config()).await;
    let created = client
        .create_folder(folder("0", "Photos"))
        .await
        .expect("201");
    assert_eq!(created.name.as_deref(), Some("Photos"));
    assert_eq!(created.parent.as_ref().map(|p| p.id.as_str()), Some("0"));
    emulator.create_file(&created.id, "b.jpg", b"bbb");
    emulator.create_file(&created.id, "a.jpg", b"a");
    emulator.create_folder(&created.id, "z-album");

    let GetFolderResponse::Ok(read) = client
        .get_folder(&created.id, whole_folder())
        .await
        .expect("200")
    else {
        panic!("no etag was sent: a 304 is not possible");
    };
    assert_eq!(read.id, created.id);
    let first_page = read.item_collection.expect("the first page");
    assert_eq!(first_page.total_count, Some(3));

    let items = client
        .list_folder_items(&created.id, items_page(None, None))
        .await
        .expect("200");
    let names: Vec<String> = items
        .entries
        .unwrap_or_default()
        .into_iter()
        .map(|item| match item {
            Item::FolderMini(f) => format!("folder {}", f.name.unwrap_or_default()),
            Item::FileFull(f) => format!("file {}", f.name.unwrap_or_default()),
            other => format!("{other:?}"),
        })
        .collect();
    // Folders first, then files by name.
    assert_eq!(names, ["folder z-album", "file a.jpg", "file b.jpg"]);
    let page = client
        .list_folder_items(&created.id, items_page(Some(1), Some(1)))
        .await
        .expect("a page");
    assert_eq!(page.entries.map(|e| e.len()), Some(1));
    assert_eq!(page.total_count, Some(3));

    // A taken name (the conflicts are a list for folders); unknown folders.
    let error = client
        .create_folder(folder("0", "photos"))
        .await
        .expect_err("taken");
    assert_eq!(status_and_code(&error), (409, "item_name_in_use".into()));
    let conflicts = &body_of(&error)["context_info"]["conflicts"];
    assert_eq!(conflicts[0]["id"], Value::String(created.id.clone()));
    let error = client
        .create_folder(folder("424242", "x"))
        .await
        .expect_err("no parent");
    assert_eq!(status_and_code(&error), (404, "not_found".into()));
    let error = client
        .get_folder("424242", whole_folder())
        .await
        .expect_err("no folder");
    assert_eq!(status_and_code(&error), (404, "not_found".into()));
    let error = client
        .list_folder_items("424242", items_page(None, None))
        .await
        .expect_err("no folder");
    assert_eq!(status_and_code(&error), (404, "not_found".into()));
}

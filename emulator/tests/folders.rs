//! Folders against raw HTTP: creation, reading, listing with paging, sorting and `fields`.

mod common;

use common::*;
use serde_json::{Value, json};

async fn create(api: &Api, parent: &str, name: &str) -> Answer {
    api.post_json(
        &format!("{}/folders", api.api),
        &json!({"name": name, "parent": {"id": parent}}),
    )
    .await
}

fn names(page: &Value) -> Vec<&str> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn folders_are_created_and_read() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let docs = create(&api, "0", "Docs").await.ok(201);
    assert_eq!(docs["type"], "folder");
    assert_eq!(docs["name"], "Docs");
    assert_eq!(docs["etag"], "0");
    assert_eq!(docs["parent"]["id"], "0");
    assert_eq!(docs["path_collection"]["total_count"], 1);
    assert_eq!(docs["path_collection"]["entries"][0]["name"], "All Files");
    assert_eq!(docs["item_collection"]["total_count"], 0);
    assert_eq!(docs["item_status"], "active");
    assert_eq!(docs["size"], 0);
    let docs_id = docs["id"].as_str().unwrap();
    let inner = create(&api, docs_id, "Inner").await.ok(201);
    let inner_id = inner["id"].as_str().unwrap();
    assert_eq!(inner["path_collection"]["total_count"], 2);
    // The emulator's own fixture finds what the API created.
    assert_eq!(emulator.create_folder(docs_id, "inner"), inner_id);
    emulator.create_file(inner_id, "f.bin", &data(1000, 1));

    let root = api.get("/folders/0").await.ok(200);
    assert_eq!(root["id"], "0");
    assert_eq!(root["name"], "All Files");
    assert!(root["parent"].is_null() && root["etag"].is_null() && root["created_at"].is_null());
    assert_eq!(root["path_collection"]["total_count"], 0);
    assert_eq!(root["size"], 1000);
    assert_eq!(names(&root["item_collection"]), ["Docs"]);
    let read = api
        .get(&format!("/folders/{docs_id}?fields=size,name"))
        .await
        .ok(200);
    let mut keys: Vec<&str> = read
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["etag", "id", "name", "sequence_id", "size", "type"]);
    assert_eq!(read["size"], 1000);
    api.get("/folders/123456").await.error(404, "not_found");
    // Both roots serve folders.
    api.send(api.request(
        reqwest::Method::GET,
        &format!("{}/folders/{inner_id}", emulator.upload_url()),
    ))
    .await
    .ok(200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn folder_creation_refusals() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let existing = create(&api, "0", "Photos").await.ok(201);
    let file = emulator.create_file("0", "notes.txt", b"x");

    // A taken name, whatever its case: `conflicts` is a list holding the item.
    let body = create(&api, "0", "PHOTOS")
        .await
        .error(409, "item_name_in_use");
    let conflicts = body["context_info"]["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["id"], existing["id"]);
    assert_eq!(conflicts[0]["type"], "folder");
    let body = create(&api, "0", "Notes.TXT")
        .await
        .error(409, "item_name_in_use");
    assert_eq!(body["context_info"]["conflicts"][0]["id"], file.id.as_str());
    assert_eq!(body["context_info"]["conflicts"][0]["type"], "file");

    create(&api, "98765", "x").await.error(404, "not_found");
    let url = format!("{}/folders", api.api);
    for (body, code) in [
        (json!({"parent": {"id": "0"}}), "bad_request"),
        (json!({"name": "x"}), "bad_request"),
        (json!({"name": "x", "parent": {}}), "bad_request"),
        (
            json!({"name": "a/b", "parent": {"id": "0"}}),
            "item_name_invalid",
        ),
        (
            json!({"name": " lead", "parent": {"id": "0"}}),
            "item_name_invalid",
        ),
        (
            json!({"name": "x".repeat(256), "parent": {"id": "0"}}),
            "item_name_invalid",
        ),
        (json!("x"), "bad_request"),
    ] {
        api.post_json(&url, &body).await.error(400, code);
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn listings_page_sort_and_select_fields() {
    let emulator = start(small_config()).await;
    let api = Api::new(&emulator);
    let folder = emulator.create_folder("0", "Mixed");
    for name in ["b-dir", "A-dir"] {
        emulator.create_folder(&folder, name);
    }
    for (i, name) in ["c.txt", "a.txt", "B.txt"].iter().enumerate() {
        emulator.create_file(&folder, name, &data(100 * (i + 1), i as u8));
    }
    let items = |query: &str| {
        let path = format!("/folders/{folder}/items{query}");
        let api = &api;
        async move { api.get(&path).await }
    };

    // Defaults: folders first, then by name without regard to case; mini entries.
    let page = items("").await.ok(200);
    assert_eq!(page["total_count"], 5);
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 100);
    assert_eq!(page["order"][0], json!({"by": "type", "direction": "ASC"}));
    assert_eq!(page["order"][1], json!({"by": "name", "direction": "ASC"}));
    assert_eq!(names(&page), ["A-dir", "b-dir", "a.txt", "B.txt", "c.txt"]);
    let file = &page["entries"][2];
    assert_eq!(file["sha1"], sha1_hex(&data(200, 1)));
    assert_eq!(file["file_version"]["type"], "file_version");
    assert!(file.get("size").is_none(), "mini form by default: {file}");
    assert!(page["entries"][0].get("size").is_none());

    // Pages, and `fields` on top of the mini form.
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = items(&format!("?offset={offset}&limit=2&fields=size,name"))
            .await
            .ok(200);
        assert_eq!(
            (page["offset"].as_u64(), page["limit"].as_u64()),
            (Some(offset), Some(2))
        );
        for entry in page["entries"].as_array().unwrap() {
            assert!(
                entry["size"].is_u64() && entry["etag"].is_string(),
                "{entry}"
            );
            seen.push(entry["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen, ["A-dir", "b-dir", "a.txt", "B.txt", "c.txt"]);
    assert!(names(&items("?offset=9").await.ok(200)).is_empty());
    assert_eq!(items("?limit=5000").await.ok(200)["limit"], 1000);

    // Sorting within each type.
    let by_size = items("?sort=size&direction=DESC").await.ok(200);
    assert_eq!(names(&by_size)[2..], ["B.txt", "a.txt", "c.txt"]);
    assert_eq!(
        by_size["order"][1],
        json!({"by": "size", "direction": "DESC"})
    );

    // Markers.
    let mut marked = Vec::new();
    let mut query = "?usemarker=true&limit=2".to_string();
    loop {
        let page = items(&query).await.ok(200);
        assert!(page.get("total_count").is_none());
        marked.extend(names(&page).into_iter().map(str::to_string));
        match page["next_marker"].as_str() {
            Some(marker) => query = format!("?usemarker=true&limit=2&marker={marker}"),
            None => break,
        }
    }
    assert_eq!(marked, seen);

    for query in [
        "?offset=-1",
        "?offset=x",
        "?limit=0",
        "?limit=many",
        "?sort=colour",
        "?direction=UP",
        "?usemarker=maybe",
        "?marker=abc",
        "?usemarker=true&marker=not-ours",
    ] {
        items(query).await.error(400, "bad_request");
    }
    api.get("/folders/31337/items")
        .await
        .error(404, "not_found");
    emulator.shutdown().await;
}

//! Every type the client decodes from a response, fed what a server (or a broken
//! proxy) might send: arbitrary bytes, truncated bodies, unknown fields, unknown enum
//! values, `null`s, wrong types, deep nesting and huge numbers. Decoding gives a value
//! or an error, never a panic; unknown enum values and unknown fields are kept and
//! written back, not dropped.
//!
//! Bodies are decoded the way the runtime does (`oas_runtime::Response::json` and
//! `into_error` both call `serde_json::from_slice`). The list of covered types is
//! compared with the response types of the generated client, read with syn, so a new
//! operation cannot go untested.

// The `json!` of a full `FileFull` nests deeper than the default limit.
#![recursion_limit = "256"]

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

use box_api::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A value no version of the spec lists: it must survive a decode.
const UNKNOWN: &str = "zz_value_from_the_future";

/// Decodes as the runtime does.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// Decodes under `catch_unwind`: a panic fails the test with the type and the input.
fn decode_no_panic<T: DeserializeOwned>(name: &str, what: &str, bytes: &[u8]) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(|| decode::<T>(bytes))) {
        Ok(result) => result.ok(),
        Err(_) => {
            let shown: String = String::from_utf8_lossy(bytes).chars().take(2000).collect();
            panic!("decoding {name} panicked on {what}: {shown}")
        }
    }
}

/// Every pointer of a JSON value (the root is "").
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, pointer: String, out: &mut Vec<String>) {
        out.push(pointer.clone());
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let token = key.replace('~', "~0").replace('/', "~1");
                    walk(child, format!("{pointer}/{token}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

fn replaced(example: &Value, pointer: &str, with: Value) -> Vec<u8> {
    let mut changed = example.clone();
    *changed.pointer_mut(pointer).unwrap() = with;
    serde_json::to_vec(&changed).unwrap()
}

/// All the hostile inputs for one type, built from a realistic valid example.
fn robust<T>(name: &str, example: &Value)
where
    T: DeserializeOwned + Serialize + Debug,
{
    let bytes = serde_json::to_vec(example).unwrap();

    // The example itself decodes, and nothing in it is dropped on the way.
    let value: T = decode(&bytes).unwrap_or_else(|e| panic!("{name}: the example: {e}"));
    assert_eq!(
        &serde_json::to_value(&value).unwrap(),
        example,
        "{name}: the example does not survive a round trip"
    );

    // Every proper prefix is invalid JSON, whatever the type.
    for end in 0..bytes.len() {
        let prefix = &bytes[..end];
        assert!(
            decode_no_panic::<T>(name, "a truncated body", prefix).is_none(),
            "{name}: a truncated body decoded: {}",
            String::from_utf8_lossy(prefix)
        );
    }

    // Arbitrary bytes, and the example with bytes flipped.
    let mut rng = StdRng::seed_from_u64(0x0b0c);
    for round in 0..400 {
        let input: Vec<u8> = if round % 2 == 0 {
            let len = rng.random_range(0..64);
            (0..len).map(|_| rng.random()).collect()
        } else {
            let mut flipped = bytes.clone();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..flipped.len());
                flipped[at] ^= rng.random_range(1..=255u8);
            }
            flipped
        };
        decode_no_panic::<T>(name, "random bytes", &input);
    }

    for pointer in &pointers(example) {
        let node = example.pointer(pointer).unwrap();

        // An unknown field in any object is kept and written back: a struct keeps it
        // in its `unknown_fields` (Box adds fields before its spec lists them), a map
        // as an entry. (A map whose values have a type may refuse a value of another.)
        if let Value::Object(map) = node {
            let with = |key: &str, value: Value| {
                let mut changed = map.clone();
                changed.insert(key.into(), value);
                replaced(example, pointer, Value::Object(changed))
            };
            let is_map = map.values().next().is_some_and(|first| {
                let input = with("zz_copy", first.clone());
                decode_no_panic::<T>(name, "a copied entry", &input).is_some_and(|decoded| {
                    let back = serde_json::to_value(&decoded).unwrap();
                    back.pointer(&format!("{pointer}/zz_copy")).is_some()
                })
            });
            let new_field = json!({"nested": [1, "two", null]});
            let input = with("zz_new_field", new_field.clone());
            match decode_no_panic::<T>(name, "an unknown field", &input) {
                Some(decoded) => {
                    let back = serde_json::to_value(&decoded).unwrap();
                    assert_eq!(
                        back.pointer(&format!("{pointer}/zz_new_field")),
                        Some(&new_field),
                        "{name}: an unknown field at {pointer:?} was dropped"
                    );
                }
                None => assert!(
                    is_map,
                    "{name}: an unknown field at {pointer:?} was refused"
                ),
            }
        }

        // An unknown string anywhere is kept where it was: open enums keep it in
        // `Unknown`, unions in `Other`. Only a date-time may refuse it.
        if let Value::String(original) = node {
            let input = replaced(example, pointer, json!(UNKNOWN));
            match decode_no_panic::<T>(name, "an unknown value", &input) {
                Some(decoded) => {
                    let back = serde_json::to_value(&decoded).unwrap();
                    assert_eq!(
                        back.pointer(pointer),
                        Some(&json!(UNKNOWN)),
                        "{name}: the value {UNKNOWN:?} at {pointer:?} was lost: {decoded:?}"
                    );
                }
                None => assert!(
                    chrono::DateTime::parse_from_rfc3339(original).is_ok(),
                    "{name}: a new value at {pointer:?} (was {original:?}) fails the whole body"
                ),
            }
        }

        // null, other types, huge numbers and deep nesting in every place.
        let hostile = [
            json!(null),
            json!(true),
            json!(-1),
            json!(0.5),
            json!(""),
            json!([]),
            json!({}),
            json!([null]),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e308),
            json!(-1e308),
        ];
        for with in hostile {
            let input = replaced(example, pointer, with);
            decode_no_panic::<T>(name, "a wrong value", &input);
        }
        let text = String::from_utf8(replaced(example, pointer, json!("@@"))).unwrap();
        for raw in [
            "1e400",
            "-1e400",
            "184467440737095516160000",
            "-92233720368547758080000",
            "0.0000000000000000000000000000000000000000001",
        ] {
            let input = text.replacen("\"@@\"", raw, 1);
            decode_no_panic::<T>(name, "a huge number", input.as_bytes());
        }
        if pointer.matches('/').count() <= 2 {
            let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            let input = text.replacen("\"@@\"", &deep, 1);
            assert!(
                decode_no_panic::<T>(name, "deep nesting", input.as_bytes()).is_none(),
                "{name}: 100000 nested arrays at {pointer:?} decoded"
            );
        }
    }
    let deep = "[".repeat(100_000);
    assert!(decode_no_panic::<T>(name, "deep nesting", deep.as_bytes()).is_none());
    let deep = "{\"a\":".repeat(100_000);
    assert!(decode_no_panic::<T>(name, "deep nesting", deep.as_bytes()).is_none());
}

fn user() -> Value {
    json!({"id": "11446498", "type": "user", "name": "Aaron Levie", "login": "ceo@example.com"})
}

fn folder() -> Value {
    json!({"id": "12345", "etag": "1", "type": "folder", "sequence_id": "3", "name": "Contracts"})
}

fn upload_part() -> Value {
    json!({"part_id": "6F2D3486", "offset": 16777216, "size": 3222784,
           "sha1": "134b65991ed521fcfe4724b7d814ab8ded5185dc"})
}

fn upload_session() -> Value {
    let base =
        "https://upload.box.com/api/2.0/files/upload_sessions/F971964745A5CD0C001BBE4E58196BFD";
    json!({
        "id": "F971964745A5CD0C001BBE4E58196BFD",
        "type": "upload_session",
        "session_expires_at": "2012-12-12T10:53:43-08:00",
        "part_size": 8388608,
        "total_parts": 1000,
        "num_parts_processed": 455,
        "session_endpoints": {
            "upload_part": base,
            "commit": format!("{base}/commit"),
            "abort": base,
            "list_parts": format!("{base}/parts"),
            "status": base,
            "log_event": format!("{base}/log")
        }
    })
}

fn upload_parts() -> Value {
    json!({
        "total_count": 5000,
        "limit": 1000,
        "offset": 2000,
        "order": [{"by": "type", "direction": "ASC"}],
        "entries": [upload_part()]
    })
}

fn files() -> Value {
    let version = json!({"id": "12345", "type": "file_version", "sha1": "134b65991ed521fcfe4724b7d814ab8ded5185dc"});
    let file_mini = json!({"id": "12345", "etag": "1", "type": "file", "sequence_id": "3",
                           "name": "Contract.pdf", "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37",
                           "file_version": version});
    let file = json!({
        "id": "12345",
        "etag": "1",
        "type": "file",
        "sequence_id": "3",
        "name": "Contract.pdf",
        "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37",
        "file_version": version,
        "description": "Contract for Q1 renewal",
        "size": 629644,
        "path_collection": {"total_count": 1, "entries": [folder()]},
        "created_at": "2012-12-12T10:53:43-08:00",
        "modified_at": "2012-12-12T10:53:43-08:00",
        "trashed_at": "2012-12-12T10:53:43-08:00",
        "purged_at": "2012-12-12T10:53:43-08:00",
        "content_created_at": "2012-12-12T10:53:43-08:00",
        "content_modified_at": "2012-12-12T10:53:43-08:00",
        "created_by": user(),
        "modified_by": user(),
        "owned_by": user(),
        "shared_link": {
            "url": "https://www.box.com/s/vspke7y05sb214wjokpk",
            "download_url": "https://www.box.com/shared/static/rh935iit6ewrmw0unyul.jpeg",
            "vanity_url": "https://acme.app.box.com/v/my_url/",
            "vanity_name": "my_url",
            "access": "open",
            "effective_access": "company",
            "effective_permission": "can_download",
            "unshared_at": "2018-04-13T13:53:23-07:00",
            "is_password_enabled": true,
            "permissions": {"can_download": true, "can_preview": true, "can_edit": false},
            "download_count": 3,
            "preview_count": 3
        },
        "parent": folder(),
        "item_status": "active",
        "version_number": "1",
        "comment_count": 10,
        "permissions": {
            "can_delete": true, "can_download": true, "can_invite_collaborator": true,
            "can_rename": true, "can_set_share_access": true, "can_share": true,
            "can_annotate": true, "can_comment": true, "can_preview": true, "can_upload": true,
            "can_view_annotations_all": true, "can_view_annotations_self": true,
            "can_apply_watermark": true
        },
        "tags": ["approved"],
        "lock": {
            "id": "11446498",
            "type": "lock",
            "created_by": user(),
            "created_at": "2012-12-12T10:53:43-08:00",
            "expired_at": "2012-12-12T10:53:43-08:00",
            "is_download_prevented": true,
            "app_type": "office_wopiplus"
        },
        "extension": "pdf",
        "is_package": true,
        "expiring_embed_link": {
            "access_token": "c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ",
            "expires_in": 3600,
            "token_type": "bearer",
            "restricted_to": [
                {"scope": "item_download", "object": folder()},
                {"scope": "item_preview", "object": file_mini},
                {"scope": "base_upload", "object": {"type": "web_link", "id": "1"}}
            ],
            "url": "https://cloud.app.box.com/preview/expiring_embed/gvoct6FE!Qz2rDeyxCiHsYpvlnR7JJ0SCfFM2M4YiX9cIwrSo4LOYQgxyP3rzoYuMmXg96mTAidqjPuRH",
        },
        "watermark_info": {"is_watermarked": true, "is_watermark_inherited": false,
                           "is_watermarked_by_access_policy": false},
        "is_accessible_via_shared_link": true,
        "allowed_invitee_roles": ["editor", "co-owner"],
        "is_externally_owned": true,
        "has_collaborations": true,
        "metadata": {
            "enterprise_27335": {
                "marketingCollateral": {
                    "$canEdit": true,
                    "$id": "01234500-12f1-1234-aa12-b1d234cb567e",
                    "$parent": "folder_59449484661",
                    "$scope": "enterprise_27335",
                    "$template": "marketingCollateral",
                    "$type": "properties-6bcba49f-ca6d-4d2a-a758-57fe6edf44d0",
                    "$typeVersion": 2,
                    "$version": 1,
                    "reviewer": {"name": "Ann", "round": 2}
                }
            }
        },
        "expires_at": "2012-12-12T10:53:43-08:00",
        "representations": {
            "entries": [{
                "content": {"url_template": "https://dl.boxcloud.com/api/2.0/internal_files/123/versions/345/representations/png_paged_2048x2048/content/{+asset_path}?watermark_content=4567"},
                "info": {"url": "https://api.box.com/2.0/internal_files/123/versions/345/representations/png_paged_2048x2048"},
                "properties": {"dimensions": "2048x2048", "paged": "true", "thumb": "true"},
                "representation": "png",
                "status": {"state": "success"}
            }]
        },
        "classification": {"name": "Top Secret", "definition": "Content that should not be shared outside the company.", "color": "#FF0000"},
        "uploader_display_name": "Ellis Wiggins",
        "disposition_at": "2012-12-12T10:53:43-08:00",
        "shared_link_permission_options": ["can_preview", "can_edit"],
        "is_associated_with_app_item": true
    });
    json!({"total_count": 1, "entries": [file]})
}

fn client_error() -> Value {
    json!({
        "type": "error",
        "status": 409,
        "code": "item_name_in_use",
        "message": "Item with the same name already exists",
        "context_info": {"conflicts": [{"type": "file", "id": "12345", "name": "video.mov"}]},
        "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
        "request_id": "abcdef123456"
    })
}

/// One `robust` test per type the client decodes, with its example; `COVERED` lists
/// them for the coverage check, so a type cannot be listed without being tested.
macro_rules! decoded_types {
    ($($test:ident: $ty:ident = $example:expr),* $(,)?) => {
        const COVERED: &[&str] = &[$(stringify!($ty)),*];
        $(
            #[test]
            fn $test() {
                robust::<$ty>(stringify!($ty), &$example);
            }
        )*
    };
}

decoded_types!(
    client_error_decodes_robustly: ClientError = client_error(),
    files_decode_robustly: Files = files(),
    upload_parts_decodes_robustly: UploadParts = upload_parts(),
    upload_session_decodes_robustly: UploadSession = upload_session(),
    uploaded_part_decodes_robustly: UploadedPart = json!({"part": upload_part()}),
);

/// Each open enum reachable from a response keeps a value it does not know in
/// `Unknown`, and writes it back unchanged.
macro_rules! open_enums {
    ($($name:ident),* $(,)?) => {
        const OPEN_ENUMS: &[&str] = &[$(stringify!($name)),*];

        #[test]
        fn unknown_enum_values_land_in_unknown_and_round_trip() {
            $(
                let decoded: $name = decode(json!(UNKNOWN).to_string().as_bytes())
                    .unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)));
                assert!(
                    matches!(&decoded, $name::Unknown(value) if value == UNKNOWN),
                    "{}: {decoded:?}",
                    stringify!($name)
                );
                assert_eq!(serde_json::to_value(&decoded).unwrap(), json!(UNKNOWN));
                assert_eq!(decoded.as_str(), UNKNOWN);
                for wrong in ["null", "1", "[]", "{}", "true", "\"unterminated"] {
                    assert!(
                        decode::<$name>(wrong.as_bytes()).is_err(),
                        "{} decoded {wrong}",
                        stringify!($name)
                    );
                }
            )*
        }
    };
}

open_enums!(
    ClientErrorCode,
    ClientErrorType,
    FileBaseType,
    FileFullAllowedInviteeRolesItem,
    FileFullExpiringEmbedLinkTokenType,
    FileFullLockAppType,
    FileFullLockType,
    FileFullRepresentationsEntriesItemStatusState,
    FileFullSharedLinkPermissionOptionsItem,
    FileItemStatus,
    FileSharedLinkAccess,
    FileSharedLinkEffectiveAccess,
    FileSharedLinkEffectivePermission,
    FileVersionBaseType,
    FolderBaseType,
    ResourceScopeScope,
    UploadPartsOrderItemDirection,
    UploadSessionType,
    UserBaseType,
);

/// Fields Box sends that its spec does not list (a session's `plan`, a part's
/// `sha512`, fields newer than the spec on a file) are kept in `unknown_fields`,
/// readable by name, and written back unchanged: nothing Box sends is dropped.
#[test]
fn fields_the_spec_does_not_list_are_kept_and_written_back() {
    let mut session = upload_session();
    session["session_endpoints"]["plan"] =
        json!("https://upload.box.com/api/2.0/files/upload_sessions/F97/plan");
    let decoded: UploadSession = decode(&serde_json::to_vec(&session).unwrap()).unwrap();
    let endpoints = decoded.session_endpoints.as_ref().unwrap();
    assert_eq!(
        endpoints.unknown_fields["plan"],
        session["session_endpoints"]["plan"]
    );
    assert_eq!(serde_json::to_value(&decoded).unwrap(), session);

    let mut part = upload_part();
    part["sha512"] = json!("ab".repeat(64));
    let answer = json!({"part": part});
    let decoded: UploadedPart = decode(&serde_json::to_vec(&answer).unwrap()).unwrap();
    let decoded_part = decoded.part.as_ref().unwrap();
    assert_eq!(decoded_part.unknown_fields["sha512"], part["sha512"]);
    // The part goes back to Box in the commit as it came.
    assert_eq!(serde_json::to_value(decoded_part).unwrap(), part);

    let mut files = files();
    let file = &mut files["entries"][0];
    file["zz_review_state"] = json!({"state": "approved", "by": user()});
    file["zz_labels"] = json!(["a", "b"]);
    file["lock"]["zz_reason"] = json!("legal hold");
    let decoded: Files = decode(&serde_json::to_vec(&files).unwrap()).unwrap();
    let entry = &decoded.entries.as_ref().unwrap()[0];
    assert_eq!(entry.unknown_fields.len(), 2, "{:?}", entry.unknown_fields);
    assert_eq!(entry.unknown_fields["zz_labels"], json!(["a", "b"]));
    assert_eq!(
        entry.lock.as_ref().unwrap().unknown_fields["zz_reason"],
        json!("legal hold")
    );
    assert_eq!(serde_json::to_value(&decoded).unwrap(), files);

    let mut error = client_error();
    error["zz_details"] = json!({"retry": false});
    let decoded: ClientError = decode(&serde_json::to_vec(&error).unwrap()).unwrap();
    assert_eq!(
        decoded.unknown_fields["zz_details"],
        json!({"retry": false})
    );
    assert_eq!(serde_json::to_value(&decoded).unwrap(), error);
}

/// An unknown error code inside a real error body lands in `Unknown`: Box returns
/// codes its spec does not list.
#[test]
fn unknown_error_code_in_a_body_is_kept() {
    let mut body = client_error();
    body["code"] = json!(UNKNOWN);
    let error: ClientError = decode(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(error.code, Some(ClientErrorCode::Unknown(UNKNOWN.into())));
    assert_eq!(serde_json::to_value(&error).unwrap(), body);
}

// ---------------------------------------------------------------------------------
// Coverage: the generated client's response types and the open enums they reach.

fn generated_file(name: &str) -> syn::File {
    let path = format!("{}/src/generated/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every identifier in a type (`Option<Vec<FileFull>>` gives Option, Vec, FileFull).
fn type_names(ty: &syn::Type, out: &mut BTreeSet<String>) {
    match ty {
        syn::Type::Path(path) => {
            for segment in &path.path.segments {
                out.insert(segment.ident.to_string());
                if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(inner) = arg {
                            type_names(inner, out);
                        }
                    }
                }
            }
        }
        syn::Type::Reference(r) => type_names(&r.elem, out),
        syn::Type::Slice(s) => type_names(&s.elem, out),
        syn::Type::Array(a) => type_names(&a.elem, out),
        syn::Type::Paren(p) => type_names(&p.elem, out),
        syn::Type::Group(g) => type_names(&g.elem, out),
        syn::Type::Tuple(t) => t.elems.iter().for_each(|e| type_names(e, out)),
        _ => {}
    }
}

/// The types the client decodes: the success types of its methods (the payloads of
/// the `…Response` enums it defines), and the default error body of `Error<E>`.
fn decoded_types() -> BTreeSet<String> {
    let client = generated_file("client.rs");
    let mut outcome_enums = std::collections::BTreeMap::new();
    let mut returned = BTreeSet::new();
    let mut decoded = BTreeSet::new();
    for item in &client.items {
        match item {
            syn::Item::Enum(e) => {
                let mut payloads = BTreeSet::new();
                for variant in &e.variants {
                    if let syn::Fields::Unnamed(fields) = &variant.fields {
                        for field in &fields.unnamed {
                            type_names(&field.ty, &mut payloads);
                        }
                    }
                }
                outcome_enums.insert(e.ident.to_string(), payloads);
            }
            syn::Item::Type(alias) if alias.ident == "Error" => {
                for param in &alias.generics.params {
                    if let syn::GenericParam::Type(syn::TypeParam {
                        default: Some(ty), ..
                    }) = param
                    {
                        type_names(&ty.1, &mut decoded);
                    }
                }
            }
            syn::Item::Impl(block) => {
                for item in &block.items {
                    let syn::ImplItem::Fn(method) = item else {
                        continue;
                    };
                    let syn::ReturnType::Type(_, ty) = &method.sig.output else {
                        continue;
                    };
                    // `Result<T, Error>`: T.
                    let syn::Type::Path(path) = ty.as_ref() else {
                        continue;
                    };
                    let last = path.path.segments.last().unwrap();
                    if last.ident != "Result" || method.sig.asyncness.is_none() {
                        continue;
                    }
                    if let syn::PathArguments::AngleBracketed(args) = &last.arguments
                        && let Some(syn::GenericArgument::Type(ok)) = args.args.first()
                    {
                        type_names(ok, &mut returned);
                    }
                }
            }
            _ => {}
        }
    }
    assert!(!returned.is_empty(), "no async methods found in client.rs");
    for name in returned {
        match outcome_enums.get(&name) {
            Some(payloads) => decoded.extend(payloads.iter().cloned()),
            None => {
                decoded.insert(name);
            }
        }
    }
    // Keep only the generated models (drops `()`, `Vec`, `Option`…).
    let defined = defined_types();
    decoded.retain(|name| defined.contains_key(name));
    decoded
}

/// The items of types.rs by name, with the names their fields and variants use.
fn defined_types() -> std::collections::BTreeMap<String, (bool, BTreeSet<String>)> {
    let mut out = std::collections::BTreeMap::new();
    for item in generated_file("types.rs").items {
        let (name, open_enum, uses) = match item {
            syn::Item::Struct(s) => {
                let mut uses = BTreeSet::new();
                for field in &s.fields {
                    type_names(&field.ty, &mut uses);
                }
                (s.ident.to_string(), false, uses)
            }
            syn::Item::Enum(e) => {
                let mut uses = BTreeSet::new();
                let mut open = false;
                for variant in &e.variants {
                    for field in &variant.fields {
                        type_names(&field.ty, &mut uses);
                    }
                    open |= variant.ident == "Unknown";
                }
                (e.ident.to_string(), open, uses)
            }
            syn::Item::Type(t) => {
                let mut uses = BTreeSet::new();
                type_names(&t.ty, &mut uses);
                (t.ident.to_string(), false, uses)
            }
            _ => continue,
        };
        out.insert(name, (open_enum, uses));
    }
    out
}

#[test]
fn every_decoded_type_is_covered() {
    let decoded = decoded_types();
    let covered: BTreeSet<String> = COVERED.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        decoded, covered,
        "the client decodes these types; each needs a `robust` test and a COVERED entry"
    );
}

#[test]
fn every_reachable_open_enum_is_covered() {
    let defined = defined_types();
    let mut reachable = BTreeSet::new();
    let mut queue: Vec<String> = decoded_types().into_iter().collect();
    while let Some(name) = queue.pop() {
        if !reachable.insert(name.clone()) {
            continue;
        }
        for used in &defined[&name].1 {
            if defined.contains_key(used) {
                queue.push(used.clone());
            }
        }
    }
    let open: BTreeSet<String> = reachable
        .into_iter()
        .filter(|name| defined[name].0)
        .collect();
    let covered: BTreeSet<String> = OPEN_ENUMS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        open, covered,
        "these open enums are reachable from responses; list each in open_enums!"
    );
}

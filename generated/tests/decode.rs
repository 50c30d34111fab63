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

#[path = "decode/examples.rs"]
mod examples;
use examples::*;

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
    access_token_response_decodes_robustly: AccessTokenResponse = access_token(),
    client_error_decodes_robustly: ClientError = client_error(),
    files_decode_robustly: Files = files(),
    folder_full_decodes_robustly: FolderFull = folder_full(),
    items_decode_robustly: Items = items(),
    oauth2_error_decodes_robustly: OAuth2Error = json!({
        "error": "invalid_grant",
        "error_description": "The authorization code has expired"
    }),
    upload_parts_decodes_robustly: UploadParts = upload_parts(),
    upload_session_decodes_robustly: UploadSession = upload_session(),
    uploaded_part_decodes_robustly: UploadedPart = json!({"part": upload_part()}),
    upload_url_decodes_robustly: UploadUrl = json!({
        "upload_url": "https://upload-las.app.box.com/api/2.0/files/content?upload_session_id=1234",
        "upload_token": "Pc3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQP"
    }),
);

/// The preflight check's 409 body: the generated client leaves it a `serde_json::Value`
/// (that call's error bodies have two schemas), so callers decode it as a
/// `ConflictError` themselves, and that must be as robust as any other.
#[test]
fn conflict_error_decodes_robustly() {
    let mut body = client_error();
    body["context_info"] = json!({"conflicts": [{
        "id": "12345", "etag": "1", "type": "file", "sequence_id": "3", "name": "video.mov",
        "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37",
        "file_version": {"id": "12345", "type": "file_version",
                         "sha1": "85136c79cbf9fe36bb9d05d0639c70c265c18d37"}
    }]});
    robust::<ConflictError>("ConflictError", &body);
}

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
    AccessTokenResponseIssuedTokenType,
    AccessTokenResponseTokenType,
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
    FolderFolderUploadEmailAccess,
    FolderFullAllowedInviteeRolesItem,
    FolderFullAllowedSharedLinkAccessLevelsItem,
    FolderFullSyncState,
    FolderItemStatus,
    FolderSharedLinkAccess,
    FolderSharedLinkEffectiveAccess,
    FolderSharedLinkEffectivePermission,
    ItemsOrderItemDirection,
    ResourceScopeScope,
    UploadPartsOrderItemDirection,
    UploadSessionType,
    UserBaseType,
    WebLinkBaseType,
    WebLinkItemStatus,
    WebLinkSharedLinkAccess,
    WebLinkSharedLinkEffectiveAccess,
    WebLinkSharedLinkEffectivePermission,
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
/// the `…Response` enums it defines), the default error body of `Error<E>`, and the
/// error bodies of the methods that name another.
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
                    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                        continue;
                    };
                    if let Some(syn::GenericArgument::Type(ok)) = args.args.first() {
                        type_names(ok, &mut returned);
                    }
                    // `Result<T, Error<E>>`: the error body E of this call.
                    if let Some(syn::GenericArgument::Type(error)) = args.args.get(1) {
                        type_names(error, &mut decoded);
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

//! Robustness of the generator against mutated specs: every input gives Rust that
//! parses, or a clear error that says what and where; never a panic, never a hang.
//!
//! The corpus is `spec/box-upload.yaml` (with `spec/codegen.toml` and its
//! overlays, and with every operation selected) and the fixtures. A case mutates the
//! parsed document (structure: deleted keys, retyped values, renamed and duplicated
//! keys, `$ref`s to anywhere, dangling or cyclic, changed schema keywords, odd names)
//! and sometimes the text it is written as (truncation, flipped bytes).
//!
//! `FUZZ_CASES=100000 cargo test -p oas-codegen --test fuzz` runs the long form;
//! `FUZZ_SHOW_ERRORS=1` prints each refusal (to see what the mutations reach). The
//! `#[ignore]`d test compiles a sample of mutants (`FUZZ_COMPILE_CASES`, default 12).
//! Every input that ever failed is kept, minimized, in `tests/fixtures/regressions/`
//! and checked by `regressions_stay_fixed`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use oas_codegen::{Config, Error, Input, Output, generate, load};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};

/// Cases of the default run: enough to cover every mutation on every seed a few times
/// while the whole test stays well under a minute in a debug build.
const DEFAULT_CASES: u32 = 1000;

/// A generation that takes longer than this is a hang (a normal one takes well
/// under a second, even for the largest seed in a debug build).
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// One document of the corpus and the config it is generated with.
struct Seed {
    name: String,
    document: Value,
    config: Config,
}

fn seeds() -> &'static [Seed] {
    static SEEDS: std::sync::OnceLock<Vec<Seed>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = common::workspace_root();
        let spec = root.join("spec/box-upload.yaml");
        let read = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap();
            load::parse_document(path, &text).unwrap()
        };
        let mut out = vec![
            Seed {
                name: "box-upload (codegen.toml)".into(),
                document: read(&spec),
                config: Config::load(&root.join("spec/codegen.toml")).unwrap(),
            },
            Seed {
                name: "box-upload (all)".into(),
                document: read(&spec),
                config: Config::select_all(),
            },
        ];
        for (name, path) in common::fixtures() {
            out.push(Seed {
                name,
                document: read(&path),
                config: Config::select_all(),
            });
        }
        out
    })
}

// ---------------------------------------------------------------------------------
// Running one input and judging the outcome.

/// A spec as text, with the config it is generated with.
#[derive(Clone)]
struct Case {
    file_name: &'static str,
    bytes: Vec<u8>,
    config: Config,
}

/// What a generation that ended did.
enum Ended {
    Generated(Output),
    Refused(Error),
}

/// Writes the case into `dir` and generates it on its own thread: a panic is caught
/// and reported with its message, and a run over [`TIME_LIMIT`] is reported as a hang.
fn run(case: &Case, dir: &Path) -> Result<Ended, String> {
    let path = dir.join(case.file_name);
    std::fs::write(&path, &case.bytes).unwrap();
    let input = Input {
        spec: path,
        config: case.config.clone(),
        spec_label: "fuzz".into(),
    };
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .name("generate".into())
        // The size of a main thread, where the xtask runs the generator.
        .stack_size(8 << 20)
        .spawn(move || {
            let result = std::panic::catch_unwind(|| generate(&input));
            let _ = send.send(result);
        })
        .unwrap();
    match receive.recv_timeout(TIME_LIMIT) {
        Ok(Ok(Ok(output))) => Ok(Ended::Generated(output)),
        Ok(Ok(Err(error))) => Ok(Ended::Refused(error)),
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Err(format!("the generator panicked: {message}"))
        }
        Err(_) => Err(format!(
            "the generator did not finish within {TIME_LIMIT:?}"
        )),
    }
}

/// Checks that the outcome is Rust that parses or a clear error, and returns it.
fn judge(case: &Case, dir: &Path) -> Result<Ended, String> {
    let ended = run(case, dir)?;
    match &ended {
        Ended::Generated(output) => {
            for name in ["mod.rs", "types.rs", "client.rs"] {
                if !output.files.contains_key(name) {
                    return Err(format!("generated Ok without {name}"));
                }
            }
            for (name, text) in &output.files {
                if let Err(e) = syn::parse_file(text) {
                    return Err(format!("generated {name} does not parse: {e}"));
                }
            }
        }
        Ended::Refused(error) => judge_error(case, dir, error)?,
    }
    Ok(ended)
}

/// A clear error names the file, and a pointer (when it has one) that exists in the
/// document, or whose parent does (for something missing).
fn judge_error(case: &Case, dir: &Path, error: &Error) -> Result<(), String> {
    let message = error.to_string();
    let spec_path = dir.join(case.file_name);
    let pointer = match error {
        Error::Emit { .. } => return Err(format!("generator bug reported as an error: {message}")),
        Error::Invalid { path, pointer, .. }
        | Error::Construct { path, pointer, .. }
        | Error::DanglingRef { path, pointer, .. } => {
            if *path != spec_path {
                return Err(format!("the error names another file: {message}"));
            }
            Some(pointer)
        }
        Error::Overlay { .. } | Error::Config { .. } => None,
        _ => {
            if !message.contains(&spec_path.display().to_string()) {
                return Err(format!("the error does not name the file: {message}"));
            }
            None
        }
    };
    let Some(pointer) = pointer else {
        return Ok(());
    };
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!("{pointer:?} is not a JSON pointer: {message}"));
    }
    // The pointer is into the document as the generator saw it: parsed, overlays applied.
    let Ok(text) = std::str::from_utf8(&case.bytes) else {
        return Ok(());
    };
    let Ok(mut document) = load::parse_document(&spec_path, text) else {
        return Ok(());
    };
    for overlay in case.config.overlay_paths() {
        if load::apply_overlay_file(&mut document, &overlay).is_err() {
            return Ok(());
        }
    }
    let parent = pointer.rsplit_once('/').map_or("", |(parent, _)| parent);
    let Some(node) = document.pointer(pointer) else {
        if document.pointer(parent).is_none() {
            return Err(format!(
                "the error's pointer {pointer:?} is nowhere in the document: {message}"
            ));
        }
        return Ok(());
    };
    // serde's "invalid type: map, expected a string" must be about the node named, not
    // about something somewhere inside it.
    if let Some(found) = message
        .split("invalid type: ")
        .nth(1)
        .and_then(|rest| rest.split([',', ' ']).next())
    {
        let kind = match node {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "integer|floating|number",
            Value::String(_) => "string",
            Value::Array(_) => "sequence",
            Value::Object(_) => "map",
        };
        if !kind.split('|').any(|k| k == found) {
            return Err(format!(
                "the error is about a {found}, but its pointer {pointer:?} names a {kind}: {message}"
            ));
        }
    }
    Ok(())
}

/// Generates the case twice: the files must be the same bytes.
fn judge_determinism(case: &Case, dir: &Path, first: &Output) -> Result<(), String> {
    match run(case, dir)? {
        Ended::Generated(second) if second.files == first.files => Ok(()),
        Ended::Generated(_) => Err("two generations of the same input differ".into()),
        Ended::Refused(e) => Err(format!("generated once, refused the second time: {e}")),
    }
}

/// Where the cases of one test are written: fixed, so an input that crashes the
/// process (an abort is not a panic) is still there to look at.
fn case_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::workspace_root().join("target"));
    let dir = target.join("fuzz-cases").join(test);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cases_from_env() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .map(|n| n.parse().expect("FUZZ_CASES must be a number"))
        .unwrap_or(DEFAULT_CASES)
}

// ---------------------------------------------------------------------------------
// Mutations of the document.

/// Names that are hard for identifiers: keywords, digits, unicode, empty, long, names
/// the emitted code uses, names that collide once cased.
const ODD_NAMES: &[&str] = &[
    "",
    "type",
    "self",
    "Self",
    "super",
    "crate",
    "fn",
    "r#type",
    "async",
    "gen",
    "_",
    "__",
    "$",
    "$ref",
    "$parent",
    "0",
    "123",
    "1a",
    "-1",
    "a/b",
    "~",
    "~1",
    "a.b",
    "a b",
    "foo_bar",
    "fooBar",
    "FooBar",
    "foo-bar",
    "FOO_BAR",
    "foo__bar",
    "ñame",
    "名前",
    "🎉",
    "ǅ",
    "ﬁ",
    "String",
    "Option",
    "Result",
    "Vec",
    "Box",
    "Client",
    "Error",
    "Value",
    "Unknown",
    "unknown",
    "UNKNOWN",
    "Other",
    "None",
    "Some",
    "Ok",
    "Err",
    "serde",
    "std",
    "core",
    "oas_runtime",
    "Default",
    "from",
    "as_str",
    "new",
    "send",
    "url",
    "body",
    "request",
    "Request",
    "Response",
    "Body",
    "\"",
    "\\",
    "\n",
    "'",
    "#",
    "{x}",
    "}",
];

fn odd_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(ODD_NAMES).prop_map(str::to_owned),
        2 => "[a-zA-Z0-9_$ -]{0,12}",
        1 => ".{0,6}",
        1 => (1usize..3000).prop_map(|n| "a".repeat(n)),
    ]
}

/// Values of every JSON type, some extreme.
fn odd_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        odd_name().prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!({"type": "string"})),
        Just(json!({"type": "object", "properties": {"a": {"type": "integer"}}})),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((odd_name(), inner), 0..3)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// The schema keywords whose changes matter most, with values for each.
fn keyword() -> impl Strategy<Value = (&'static str, Value)> {
    let types = prop::sample::select(vec![
        json!("string"),
        json!("integer"),
        json!("number"),
        json!("boolean"),
        json!("array"),
        json!("object"),
        json!("null"),
        json!("file"),
        json!(["string", "null"]),
    ]);
    let formats = prop::sample::select(vec![
        "date-time",
        "date",
        "int32",
        "int64",
        "float",
        "double",
        "binary",
        "byte",
        "uuid",
        "uri",
        "",
        "password",
    ]);
    let enums = prop_oneof![
        prop::collection::vec(odd_name().prop_map(Value::String), 0..5).prop_map(Value::Array),
        Just(json!(["a", "A", "a-", "a_"])),
        Just(json!(["x", "x"])),
        Just(json!(["a", null])),
        Just(json!([1, 2])),
        Just(json!([true])),
        Just(json!([{"a": 1}])),
    ];
    let alternatives = prop_oneof![
        Just(json!([])),
        Just(json!([{}])),
        Just(json!([{"type": "string"}])),
        Just(json!([{"type": "string"}, {"type": "integer"}])),
        Just(json!([{"type": "object", "properties": {"a": {"type": "string"}}}])),
        Just(json!([{"$ref": "#/components/schemas/Nope"}])),
        Just(json!([{"type": "object", "required": ["type"],
            "properties": {"type": {"type": "string", "enum": ["x"]}}}])),
        // A union among object parts (distributed when it is an `allOf`).
        Just(json!([{"properties": {"c": {"type": "string"}}},
            {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"b": {"type": "integer"}}}]}])),
    ];
    let additional = prop_oneof![
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({})),
        Just(json!({"type": "string"})),
        Just(json!({"type": "object", "additionalProperties": true})),
    ];
    let required = prop_oneof![
        prop::collection::vec(odd_name().prop_map(Value::String), 0..3).prop_map(Value::Array),
        Just(json!(true)),
    ];
    prop_oneof![
        types.prop_map(|v| ("type", v)),
        formats.prop_map(|v| ("format", json!(v))),
        enums.prop_map(|v| ("enum", v)),
        any::<bool>().prop_map(|v| ("nullable", json!(v))),
        required.prop_map(|v| ("required", v)),
        alternatives.clone().prop_map(|v| ("allOf", v)),
        alternatives.clone().prop_map(|v| ("oneOf", v)),
        alternatives.prop_map(|v| ("anyOf", v)),
        additional.prop_map(|v| ("additionalProperties", v)),
        Just(("items", json!({"type": "string"}))),
        Just(("properties", json!({}))),
        Just(("discriminator", json!({"propertyName": "type"}))),
        Just((
            "discriminator",
            json!({"propertyName": "type", "mapping": {"a": "#/components/schemas/Nope"}})
        )),
        odd_value().prop_map(|v| ("default", v)),
        Just(("readOnly", json!(true))),
        Just(("writeOnly", json!(true))),
        Just(("not", json!({"type": "string"}))),
    ]
}

/// What a `$ref` points to.
#[derive(Debug, Clone)]
enum Target {
    /// Any node of the document.
    Node(Index),
    /// The node itself or one of its ancestors: a cycle.
    Ancestor(Index),
    /// Nothing, or something the generator cannot follow.
    Dangling(&'static str),
}

/// One change to the document. Each `Index` picks a node among the candidates the
/// mutation applies to, so a case stays meaningful whatever came before it.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove a node from its parent.
    Delete(Index),
    /// Put a value (of any type) in a node's place.
    Replace(Index, Value),
    /// Rename an object member.
    Rename(Index, String),
    /// Copy an object member under another name.
    Duplicate(Index, String),
    /// Put a `$ref` in a node's place.
    Ref(Index, Target),
    /// Set a keyword of a schema.
    Keyword(Index, &'static str, Value),
    /// Add a property (a copy of some schema) to a schema's `properties`.
    AddProperty(Index, String, Index),
    /// Copy one node over another.
    Graft(Index, Index),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        3 => any::<Index>().prop_map(Target::Node),
        2 => any::<Index>().prop_map(Target::Ancestor),
        1 => prop::sample::select(vec![
            "#/components/schemas/Nope",
            "#/nowhere",
            "#",
            "",
            "#/components/schemas/",
            "other.yaml#/components/schemas/X",
            "https://example.com/spec.json#/components/schemas/X",
            "#/components/schemas/%7Bx%7D",
            "#components/schemas/X",
        ])
        .prop_map(Target::Dangling),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<Index>().prop_map(Mutation::Delete),
        3 => (any::<Index>(), odd_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<Index>(), odd_name()).prop_map(|(i, n)| Mutation::Rename(i, n)),
        1 => (any::<Index>(), odd_name()).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        3 => (any::<Index>(), target()).prop_map(|(i, t)| Mutation::Ref(i, t)),
        6 => (any::<Index>(), keyword()).prop_map(|(i, (k, v))| Mutation::Keyword(i, k, v)),
        3 => (any::<Index>(), odd_name(), any::<Index>())
            .prop_map(|(i, n, s)| Mutation::AddProperty(i, n, s)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Graft(a, b)),
    ]
}

/// Where a node sits, which says whether it is a schema.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Plain,
    Schema,
    /// `components/schemas` or a schema's `properties`: every member is a schema.
    SchemaMap,
    /// `allOf`, `oneOf`, `anyOf`: every item is a schema.
    SchemaList,
}

/// Every node's pointer, in document order, with whether it is a schema object.
fn nodes(document: &Value) -> Vec<(String, bool)> {
    fn walk(value: &Value, pointer: &mut String, place: Place, out: &mut Vec<(String, bool)>) {
        out.push((pointer.clone(), place == Place::Schema && value.is_object()));
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (key, child) in children {
            let child_place = match (place, value.is_object(), key.as_str()) {
                (Place::Plain, true, "schema") => Place::Schema,
                (Place::Plain, true, "schemas") if pointer == "/components" => Place::SchemaMap,
                (Place::Schema, true, "properties") => Place::SchemaMap,
                (Place::Schema, true, "items" | "additionalProperties" | "not") => Place::Schema,
                (Place::Schema, true, "allOf" | "oneOf" | "anyOf") => Place::SchemaList,
                (Place::SchemaMap, true, _) | (Place::SchemaList, false, _) => Place::Schema,
                _ => Place::Plain,
            };
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&load::escape_pointer(&key));
            walk(child, pointer, child_place, out);
            pointer.truncate(len);
        }
    }
    let mut out = Vec::new();
    walk(document, &mut String::new(), Place::Plain, &mut out);
    out
}

fn pick<'a>(candidates: &'a [String], index: &Index) -> Option<&'a str> {
    (!candidates.is_empty()).then(|| candidates[index.index(candidates.len())].as_str())
}

/// The parent of a node and its last pointer token (unescaped).
fn parent_mut<'v>(document: &'v mut Value, pointer: &str) -> Option<(&'v mut Value, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    let key = last.replace("~1", "/").replace("~0", "~");
    Some((document.pointer_mut(parent)?, key))
}

fn apply(document: &mut Value, mutation: &Mutation) {
    let all = nodes(document);
    let any: Vec<String> = all.iter().skip(1).map(|(p, _)| p.clone()).collect();
    let schemas: Vec<String> = all.iter().filter(|n| n.1).map(|(p, _)| p.clone()).collect();
    let members: Vec<String> = any
        .iter()
        .filter(|p| {
            let parent = p.rsplit_once('/').map_or("", |(parent, _)| parent);
            document.pointer(parent).is_some_and(Value::is_object)
        })
        .cloned()
        .collect();
    match mutation {
        Mutation::Delete(i) => {
            let Some(pointer) = pick(&any, i) else { return };
            match parent_mut(document, pointer) {
                Some((Value::Object(map), key)) => {
                    map.shift_remove(&key);
                }
                Some((Value::Array(items), key)) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => {}
            }
        }
        Mutation::Replace(i, value) => {
            let Some(pointer) = pick(&any, i) else { return };
            *document.pointer_mut(pointer).unwrap() = value.clone();
        }
        Mutation::Rename(i, name) | Mutation::Duplicate(i, name) => {
            let Some(pointer) = pick(&members, i) else {
                return;
            };
            let Some((Value::Object(map), key)) = parent_mut(document, pointer) else {
                return;
            };
            // Keep the member's place, so only the name changes.
            let entries = std::mem::take(map);
            for (k, v) in entries {
                if k == key {
                    if matches!(mutation, Mutation::Duplicate(..)) {
                        map.insert(k, v.clone());
                    }
                    map.insert(name.clone(), v);
                } else if k != *name {
                    map.insert(k, v);
                }
            }
        }
        Mutation::Ref(i, target) => {
            let Some(pointer) = pick(&any, i).map(str::to_owned) else {
                return;
            };
            let reference = match target {
                Target::Node(j) => format!("#{}", pick(&any, j).unwrap()),
                Target::Ancestor(j) => {
                    let ancestors: Vec<String> = any
                        .iter()
                        .filter(|p| pointer.starts_with(p.as_str()))
                        .cloned()
                        .collect();
                    format!("#{}", pick(&ancestors, j).unwrap_or(""))
                }
                Target::Dangling(r) => (*r).to_owned(),
            };
            *document.pointer_mut(&pointer).unwrap() = json!({ "$ref": reference });
        }
        Mutation::Keyword(i, keyword, value) => {
            let Some(pointer) = pick(&schemas, i) else {
                return;
            };
            if let Some(Value::Object(schema)) = document.pointer_mut(pointer) {
                schema.insert((*keyword).to_owned(), value.clone());
            }
        }
        Mutation::AddProperty(i, name, source) => {
            let (Some(pointer), Some(source)) = (pick(&schemas, i), pick(&schemas, source)) else {
                return;
            };
            let copy = document.pointer(source).unwrap().clone();
            if let Some(Value::Object(schema)) = document.pointer_mut(pointer) {
                let properties = schema
                    .entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(properties) = properties {
                    properties.insert(name.clone(), copy);
                }
            }
        }
        Mutation::Graft(to, from) => {
            let (Some(to), Some(from)) = (pick(&any, to), pick(&any, from)) else {
                return;
            };
            let copy = document.pointer(from).unwrap().clone();
            *document.pointer_mut(to).unwrap() = copy;
        }
    }
}

/// A change to the text the document is written as.
#[derive(Debug, Clone)]
enum Bytes {
    /// Keep a prefix.
    Truncate(Index),
    /// XOR some bytes with a mask.
    Flip(Vec<(Index, u8)>),
}

fn bytes_mutation() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        any::<Index>().prop_map(Bytes::Truncate),
        prop::collection::vec((any::<Index>(), 1u8..=255), 1..8).prop_map(Bytes::Flip),
    ]
}

fn apply_bytes(bytes: &mut Vec<u8>, mutation: &Bytes) {
    if bytes.is_empty() {
        return;
    }
    match mutation {
        Bytes::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        Bytes::Flip(flips) => {
            for (i, mask) in flips {
                let at = i.index(bytes.len());
                bytes[at] ^= mask;
            }
        }
    }
}

/// A whole fuzz input: which seed, how it is changed and written.
#[derive(Debug, Clone)]
struct Recipe {
    seed: Index,
    mutations: Vec<Mutation>,
    json: bool,
    bytes: Option<Bytes>,
    twice: bool,
}

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        any::<Index>(),
        prop::collection::vec(mutation(), 0..5),
        any::<bool>(),
        prop::option::weighted(0.2, bytes_mutation()),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(seed, mutations, json, bytes, twice)| Recipe {
            seed,
            mutations,
            json,
            bytes,
            twice,
        })
}

impl Recipe {
    fn case(&self) -> (String, Case) {
        let seeds = seeds();
        let seed = &seeds[self.seed.index(seeds.len())];
        let mut document = seed.document.clone();
        for mutation in &self.mutations {
            apply(&mut document, mutation);
        }
        let (file_name, mut bytes) = if self.json {
            let text = serde_json::to_string_pretty(&document).unwrap();
            ("spec.json", text.into_bytes())
        } else {
            let text = serde_yaml::to_string(&document).unwrap();
            ("spec.yaml", text.into_bytes())
        };
        if let Some(mutation) = &self.bytes {
            apply_bytes(&mut bytes, mutation);
        }
        let case = Case {
            file_name,
            bytes,
            config: seed.config.clone(),
        };
        (seed.name.clone(), case)
    }
}

fn failure(seed: &str, case: &Case, dir: &Path, problem: String) -> TestCaseError {
    let text = String::from_utf8_lossy(&case.bytes);
    let shown: String = text.chars().take(6000).collect();
    TestCaseError::fail(format!(
        "{problem}\nseed: {seed}; overlays: {:?}; input kept in {}:\n{shown}",
        case.config.overlays,
        dir.join(case.file_name).display()
    ))
}

/// The main property. Also counts outcomes: a fuzzer whose inputs are all refused
/// early would test only the loader, so a share of them must generate.
#[test]
fn mutated_specs_give_rust_or_a_clear_error() {
    let config = ProptestConfig {
        cases: cases_from_env(),
        // Failures are kept by hand, minimized, in tests/fixtures/regressions/.
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    };
    let dir = case_dir("mutated");
    let generated = std::cell::Cell::new(0u32);
    let refused = std::cell::Cell::new(0u32);
    let started = std::time::Instant::now();
    let mut runner = proptest::test_runner::TestRunner::new(config.clone());
    let result = runner.run(&recipe(), |recipe| {
        let (seed, case) = recipe.case();
        let done = generated.get() + refused.get();
        if done > 0 && done.is_multiple_of(10_000) {
            eprintln!("{done} cases in {:.0?}", started.elapsed());
        }
        match judge(&case, &dir) {
            Ok(Ended::Generated(output)) => {
                generated.set(generated.get() + 1);
                if recipe.twice {
                    judge_determinism(&case, &dir, &output)
                        .map_err(|problem| failure(&seed, &case, &dir, problem))?;
                }
            }
            Ok(Ended::Refused(e)) => {
                refused.set(refused.get() + 1);
                if std::env::var_os("FUZZ_SHOW_ERRORS").is_some() {
                    eprintln!("refused: {e}");
                }
            }
            Err(problem) => return Err(failure(&seed, &case, &dir, problem)),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (generated, refused) = (generated.get(), refused.get());
    eprintln!(
        "{} cases in {:.1?}: {generated} generated Rust, {refused} refused with an error",
        config.cases,
        started.elapsed()
    );
    assert!(
        generated * 5 >= config.cases,
        "only {generated} of {} cases generated: the mutations are too destructive to test emitting",
        config.cases
    );
}

/// Each input that once failed, minimized: now Rust that parses or a clear error.
#[test]
fn regressions_stay_fixed() {
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regressions");
    let dir = case_dir("regressions");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&regressions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let file_name = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => "spec.json",
            Some("yaml") => "spec.yaml",
            _ => continue,
        };
        let case = Case {
            file_name,
            bytes: std::fs::read(&path).unwrap(),
            config: Config::select_all(),
        };
        if let Err(problem) = judge(&case, &dir) {
            failures.push(format!("{}: {problem}", path.display()));
        }
        checked += 1;
    }
    assert!(
        checked > 0,
        "no regression inputs in {}",
        regressions.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Mutants that generate must also compile: a sample of them (from a fixed seed) and
/// every regression input that generates, in one crate, under `clippy -D warnings`.
#[test]
#[ignore = "compiles generated code for ~20 specs; run with --ignored"]
fn a_sample_of_generated_mutants_compiles_without_warnings() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

    let wanted: usize = std::env::var("FUZZ_COMPILE_CASES")
        .ok()
        .map(|n| n.parse().expect("FUZZ_COMPILE_CASES must be a number"))
        .unwrap_or(12);
    let dir = case_dir("compile");
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let mut modules = Vec::new();
    let mut tried = 0;
    while modules.len() < wanted {
        tried += 1;
        assert!(tried < wanted * 50, "too few mutants generate");
        let recipe = recipe().new_tree(&mut runner).unwrap().current();
        let (seed, case) = recipe.case();
        match judge(&case, &dir) {
            Ok(Ended::Generated(output)) => modules.push((format!("mutant{tried}"), output)),
            Ok(Ended::Refused(_)) => {}
            Err(problem) => panic!("{}", failure(&seed, &case, &dir, problem)),
        }
    }
    let regressions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/regressions");
    for entry in std::fs::read_dir(regressions).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut config = Config::select_all();
        config.dir = path.parent().unwrap().to_owned();
        let input = Input {
            spec: path,
            config,
            spec_label: name.clone(),
        };
        if let Ok(output) = generate(&input) {
            modules.push((name, output));
        }
    }
    common::clippy_crate("fuzz_mutants", &modules);
}

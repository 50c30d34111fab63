//! Load: read a spec (JSON or YAML), apply overlays, check the version, and
//! deserialize it into `openapiv3::OpenAPI`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::Error;

/// A spec read from disk, with overlays applied.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The spec file (used in error messages).
    pub path: PathBuf,
    /// The document as JSON, overlays applied.
    pub json: Value,
    /// The typed document.
    pub openapi: openapiv3::OpenAPI,
}

/// Reads `path`, applies `overlays` in order, and checks that it is OpenAPI 3.0.
pub fn load(path: &Path, overlays: &[PathBuf]) -> Result<LoadedSpec, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut json = parse_document(path, &text)?;
    check_version(path, &json)?;
    for overlay in overlays {
        apply_overlay_file(&mut json, overlay)?;
    }
    let openapi = from_json(path, &json)?;
    Ok(LoadedSpec {
        path: path.to_owned(),
        json,
        openapi,
    })
}

/// Parses JSON (by extension `.json` or a leading `{`) with serde_json, anything
/// else as YAML with serde_yaml.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, Error> {
    let is_json = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("yaml" | "yml") => false,
        _ => text.trim_start().starts_with('{'),
    };
    if is_json {
        serde_json::from_str(text).map_err(|e| Error::Syntax {
            path: path.to_owned(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: strip_location(&e.to_string()),
        })
    } else {
        let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            Error::Syntax {
                path: path.to_owned(),
                format: "YAML",
                line,
                column,
                message: strip_location(&e.to_string()),
            }
        })?;
        yaml.apply_merge().map_err(|e| Error::Invalid {
            path: path.to_owned(),
            pointer: String::new(),
            message: e.to_string(),
        })?;
        yaml_to_json(path, yaml, &mut String::new())
    }
}

/// serde's messages end with " at line L column C"; we report those separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Converts YAML to JSON. Scalar keys (YAML lets `200:` be a number) become strings,
/// as OpenAPI means them; anything JSON cannot hold is an error at its pointer.
fn yaml_to_json(
    path: &Path,
    yaml: serde_yaml::Value,
    pointer: &mut String,
) -> Result<Value, Error> {
    use serde_yaml::Value as Y;
    let invalid = |pointer: &str, message: String| Error::Invalid {
        path: path.to_owned(),
        pointer: pointer.to_owned(),
        message,
    };
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        invalid(pointer, format!("number {f} cannot be represented in JSON"))
                    })?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                out.push(yaml_to_json(path, item, pointer)?);
                pointer.truncate(len);
            }
            Value::Array(out)
        }
        Y::Mapping(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(invalid(
                            pointer,
                            format!("mapping key {other:?} is not a string"),
                        ));
                    }
                };
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(&key));
                let value = yaml_to_json(path, value, pointer)?;
                pointer.truncate(len);
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            return Err(invalid(
                pointer,
                format!("YAML tag {} is not supported", tagged.tag),
            ));
        }
    })
}

/// Escapes one JSON pointer token (RFC 6901).
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Accepts OpenAPI 3.0.x only, with a clear word for 3.1 and Swagger 2.
fn check_version(path: &Path, json: &Value) -> Result<(), Error> {
    let unsupported = |message: String| Error::Unsupported {
        path: path.to_owned(),
        message,
    };
    if let Some(version) = json.get("swagger") {
        return Err(unsupported(format!(
            "Swagger {} is not supported: this generator reads OpenAPI 3.0 (convert the file first)",
            version.as_str().unwrap_or("2.x")
        )));
    }
    match json.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.0") => Ok(()),
        Some(Value::String(v)) if v.starts_with("3.1") => Err(unsupported(format!(
            "OpenAPI {v} is not supported: this generator reads OpenAPI 3.0.x (3.1 changes the schema dialect)"
        ))),
        Some(Value::String(v)) => Err(unsupported(format!(
            "OpenAPI version {v:?} is not supported: this generator reads OpenAPI 3.0.x"
        ))),
        Some(_) => Err(Error::Invalid {
            path: path.to_owned(),
            pointer: "/openapi".into(),
            message: "the version must be a string such as \"3.0.3\"".into(),
        }),
        None if json.is_object() => Err(Error::Invalid {
            path: path.to_owned(),
            pointer: "/openapi".into(),
            message: "missing: not an OpenAPI document (no `openapi` version field)".into(),
        }),
        None => Err(Error::Invalid {
            path: path.to_owned(),
            pointer: String::new(),
            message: "the document is not an object: not an OpenAPI document".into(),
        }),
    }
}

/// Deserializes the typed document, reporting the JSON pointer of what does not fit.
fn from_json(path: &Path, json: &Value) -> Result<openapiv3::OpenAPI, Error> {
    let (pointer, message) = match typed::<openapiv3::OpenAPI>(json, "") {
        Ok(openapi) => return Ok(openapi),
        // openapiv3's maps deserialize through helpers that hide the path below them;
        // look for the same failure part by part to name a precise pointer.
        Err(top) => locate_invalid(json).unwrap_or(top),
    };
    Err(Error::Invalid {
        path: path.to_owned(),
        pointer,
        message,
    })
}

/// Deserializes `value` (found at `base`) as `T`, or returns (pointer, message).
fn typed<T: serde::de::DeserializeOwned>(value: &Value, base: &str) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = base.to_owned();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"))
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(key));
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        (pointer, e.into_inner().to_string())
    })
}

/// A kind of node that openapiv3 deserializes through an untagged or internally
/// tagged enum, which hides the path of a failure below it.
#[derive(Clone, Copy)]
enum Part {
    Schema,
    Parameter,
    RequestBody,
    Response,
    Header,
    MediaType,
    SecurityScheme,
}

impl Part {
    /// The failure (pointer, message) of deserializing `value` as this part, if any.
    fn check(self, value: &Value, pointer: &str) -> Option<(String, String)> {
        use openapiv3::{
            Header, MediaType, Parameter, ReferenceOr, RequestBody, Response, Schema,
            SecurityScheme,
        };
        match self {
            Part::Schema => typed::<ReferenceOr<Schema>>(value, pointer).err(),
            Part::Parameter => typed::<ReferenceOr<Parameter>>(value, pointer).err(),
            Part::RequestBody => typed::<ReferenceOr<RequestBody>>(value, pointer).err(),
            Part::Response => typed::<ReferenceOr<Response>>(value, pointer).err(),
            Part::Header => typed::<ReferenceOr<Header>>(value, pointer).err(),
            Part::MediaType => typed::<MediaType>(value, pointer).err(),
            Part::SecurityScheme => typed::<ReferenceOr<SecurityScheme>>(value, pointer).err(),
        }
    }

    /// The parts directly inside a value of this kind.
    fn children<'v>(self, value: &'v Value, pointer: &str) -> Vec<(Part, &'v Value, String)> {
        let member = |key: &str| value.get(key).map(|v| (v, format!("{pointer}/{key}")));
        let each = |key: &str| -> Vec<(&'v Value, String)> {
            match value.get(key) {
                Some(Value::Object(map)) => map
                    .iter()
                    .map(|(k, v)| (v, format!("{pointer}/{key}/{}", escape_pointer(k))))
                    .collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v, format!("{pointer}/{key}/{i}")))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut out = Vec::new();
        let mut add = |part: Part, found: Vec<(&'v Value, String)>| {
            out.extend(found.into_iter().map(|(v, p)| (part, v, p)));
        };
        match self {
            Part::Schema => {
                add(Part::Schema, each("properties"));
                add(Part::Schema, member("items").into_iter().collect());
                let additional = member("additionalProperties").filter(|(v, _)| v.is_object());
                add(Part::Schema, additional.into_iter().collect());
                add(Part::Schema, member("not").into_iter().collect());
                for key in ["allOf", "oneOf", "anyOf"] {
                    add(Part::Schema, each(key));
                }
            }
            Part::Parameter | Part::Header => {
                add(Part::Schema, member("schema").into_iter().collect());
                add(Part::MediaType, each("content"));
            }
            Part::RequestBody => add(Part::MediaType, each("content")),
            Part::Response => {
                add(Part::Header, each("headers"));
                add(Part::MediaType, each("content"));
            }
            Part::MediaType => add(Part::Schema, member("schema").into_iter().collect()),
            Part::SecurityScheme => {}
        }
        out
    }
}

/// The deepest failure of `value` as `part`: inside the parts it contains first, then
/// the innermost member without which it would deserialize.
fn locate(part: Part, value: &Value, pointer: &str) -> Option<(String, String)> {
    let failure = part.check(value, pointer)?;
    if !value.is_object() {
        // Every part is an object; serde would read some (tagged enums) from a list
        // and complain about its first item.
        let found = match value {
            Value::Array(_) | Value::Null => kind_of(value).to_owned(),
            scalar => format!("{} {scalar}", kind_of(scalar)),
        };
        let message = format!("invalid type: {found}, expected an object");
        return Some((pointer.to_owned(), message));
    }
    for (child_part, child, child_pointer) in part.children(value, pointer) {
        if let found @ Some(_) = locate(child_part, child, &child_pointer) {
            return found;
        }
    }
    if failure.0 != pointer {
        return Some(failure);
    }
    // Narrow down, one level at a time, to the member the message is about: first one
    // of the type serde complains about ("invalid type: boolean") whose removal makes
    // it fit or changes the complaint, else one whose removal (or replacement by a
    // value of another type, for a required one) makes it fit.
    let fits_without = |member: &str| {
        let mut changed = value.clone();
        if remove_at(&mut changed, member).is_ok() && part.check(&changed, pointer).is_none() {
            return true;
        }
        let others = [json!(""), json!(0), json!(false), json!({}), json!([])];
        others.into_iter().any(|other| {
            let mut changed = value.clone();
            if let Some(slot) = changed.pointer_mut(member) {
                *slot = other;
            }
            part.check(&changed, pointer).is_none()
        })
    };
    let complaint_changes_without = |member: &str| {
        let mut changed = value.clone();
        remove_at(&mut changed, member).is_ok()
            && part
                .check(&changed, pointer)
                .is_none_or(|(_, message)| message != failure.1)
    };
    let complained_kind = failure.1.strip_prefix("invalid type: ");
    let is_complained_kind = |member: &Value| {
        complained_kind.is_some_and(|rest| match member {
            // serde names numbers by what they hold.
            Value::Number(_) => rest.starts_with("integer") || rest.starts_with("floating"),
            _ => rest.starts_with(kind_of(member)),
        })
    };
    let mut path = String::new();
    while let Some(node) = value.pointer(&path) {
        let members: Vec<(String, &Value)> = match node {
            Value::Object(map) => map.iter().map(|(k, v)| (escape_pointer(k), v)).collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        let at = |token: &str| format!("{path}/{token}");
        let of_kind = || members.iter().filter(|(_, m)| is_complained_kind(m));
        let found = of_kind()
            .find(|(t, _)| complaint_changes_without(&at(t)))
            .or_else(|| members.iter().find(|(t, _)| fits_without(&at(t))));
        if let Some((token, _)) = found {
            path = at(token);
            continue;
        }
        // Several members are wrong: name the first value below of the type serde
        // complains about whose removal changes the complaint, else the first member
        // of that type.
        let below = descendants(node, &path)
            .into_iter()
            .find(|(p, v)| is_complained_kind(v) && complaint_changes_without(p));
        if let Some((pointer, _)) = below {
            path = pointer;
        } else if let Some((token, _)) = of_kind().next() {
            path = at(token);
        }
        break;
    }
    Some((format!("{pointer}{path}"), failure.1))
}

/// Every value below `node` (found at `pointer`), in document order, with its pointer.
fn descendants<'v>(node: &'v Value, pointer: &str) -> Vec<(String, &'v Value)> {
    let children: Vec<(String, &Value)> = match node {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (format!("{pointer}/{}", escape_pointer(k)), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{pointer}/{i}"), v))
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (child_pointer, child) in children {
        let below = descendants(child, &child_pointer);
        out.push((child_pointer, child));
        out.extend(below);
    }
    out
}

/// The first part of the document (deepest first) that does not deserialize.
fn locate_invalid(json: &Value) -> Option<(String, String)> {
    use openapiv3::{Operation, PathItem, ReferenceOr};
    fn entries<'v>(value: &'v Value, base: &str) -> Vec<(String, &'v Value)> {
        value
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (format!("{base}/{}", escape_pointer(k)), v))
            .collect()
    }
    fn parameters(owner: &Value, owner_pointer: &str) -> Option<(String, String)> {
        let list = owner["parameters"].as_array().into_iter().flatten();
        list.enumerate().find_map(|(i, param)| {
            locate(
                Part::Parameter,
                param,
                &format!("{owner_pointer}/parameters/{i}"),
            )
        })
    }
    for (item_pointer, item) in entries(&json["paths"], "/paths") {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            let Some(op) = item.get(method) else { continue };
            let op_pointer = format!("{item_pointer}/{method}");
            let found = parameters(op, &op_pointer);
            if found.is_some() {
                return found;
            }
            if let Some(body) = op.get("requestBody") {
                let found = locate(
                    Part::RequestBody,
                    body,
                    &format!("{op_pointer}/requestBody"),
                );
                if found.is_some() {
                    return found;
                }
            }
            for (pointer, response) in entries(&op["responses"], &format!("{op_pointer}/responses"))
            {
                let found = locate(Part::Response, response, &pointer);
                if found.is_some() {
                    return found;
                }
            }
            let found = typed::<Operation>(op, &op_pointer).err();
            if found.is_some() {
                return found;
            }
        }
        let found = parameters(item, &item_pointer);
        if found.is_some() {
            return found;
        }
        let found = typed::<ReferenceOr<PathItem>>(item, &item_pointer).err();
        if found.is_some() {
            return found;
        }
    }
    let components = &json["components"];
    let sections = [
        ("schemas", Part::Schema),
        ("parameters", Part::Parameter),
        ("responses", Part::Response),
        ("requestBodies", Part::RequestBody),
        ("headers", Part::Header),
        ("securitySchemes", Part::SecurityScheme),
    ];
    for (section, part) in sections {
        for (pointer, value) in entries(&components[section], &format!("/components/{section}")) {
            let found = locate(part, value, &pointer);
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// Applies an OAI Overlay 1.0 document read from `overlay_path`.
pub fn apply_overlay_file(json: &mut Value, overlay_path: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(overlay_path).map_err(|source| Error::Read {
        path: overlay_path.to_owned(),
        source,
    })?;
    let overlay = parse_document(overlay_path, &text)?;
    apply_overlay(json, &overlay).map_err(|message| Error::Overlay {
        path: overlay_path.to_owned(),
        message,
    })
}

/// Applies an overlay document: each action's JSONPath `target` selects nodes, which
/// `update` merges into (objects merge recursively, arrays get the value appended) or
/// `remove: true` deletes. A target that selects nothing is an error: it means the
/// spec changed under the overlay.
pub fn apply_overlay(json: &mut Value, overlay: &Value) -> Result<(), String> {
    match overlay.get("overlay").and_then(Value::as_str) {
        Some(v) if v.starts_with("1.") => {}
        Some(v) => {
            return Err(format!(
                "overlay version {v:?} is not supported (expected 1.0.x)"
            ));
        }
        None => return Err("missing `overlay` version field: not an OAI Overlay document".into()),
    }
    let actions = overlay
        .get("actions")
        .and_then(Value::as_array)
        .ok_or("missing `actions` list")?;
    for (i, action) in actions.iter().enumerate() {
        let at = format!("/actions/{i}");
        let target = action
            .get("target")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}: missing `target`"))?;
        let path = serde_json_path::JsonPath::parse(target)
            .map_err(|e| format!("{at}/target: invalid JSONPath {target:?}: {e}"))?;
        let pointers: Vec<String> = path
            .query_located(json)
            .locations()
            .map(|location| location.to_json_pointer())
            .collect();
        if pointers.is_empty() {
            return Err(format!(
                "{at}/target: {target:?} selects nothing in the spec"
            ));
        }
        let remove = action
            .get("remove")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match (action.get("update"), remove) {
            (Some(_), true) => return Err(format!("{at}: has both `update` and `remove`")),
            (None, false) => return Err(format!("{at}: has neither `update` nor `remove: true`")),
            (Some(update), false) => {
                for pointer in &pointers {
                    let node = json
                        .pointer_mut(pointer)
                        .ok_or_else(|| format!("{at}: {pointer} vanished while applying"))?;
                    merge(node, update).map_err(|e| format!("{at}: at {pointer}: {e}"))?;
                }
            }
            (None, true) => {
                // Remove from the last match backwards, so array indices stay valid.
                for pointer in pointers.iter().rev() {
                    remove_at(json, pointer).map_err(|e| format!("{at}: {e}"))?;
                }
            }
        }
    }
    Ok(())
}

fn merge(target: &mut Value, update: &Value) -> Result<(), String> {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)?
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
            Ok(())
        }
        (Value::Array(target), update) => {
            target.push(update.clone());
            Ok(())
        }
        (target, _) => Err(format!(
            "cannot update a {} (only objects and arrays can be updated)",
            kind_of(target)
        )),
    }
}

fn remove_at(json: &mut Value, pointer: &str) -> Result<(), String> {
    let (parent, last) = pointer
        .rsplit_once('/')
        .ok_or_else(|| "cannot remove the document root".to_owned())?;
    let key = last.replace("~1", "/").replace("~0", "~");
    match json.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let index: usize = key.parse().map_err(|_| format!("bad index in {pointer}"))?;
            if index < items.len() {
                items.remove(index);
            }
            Ok(())
        }
        _ => Err(format!("{pointer} has no parent to remove it from")),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "map",
    }
}

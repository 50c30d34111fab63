//! The API summary: the public Rust API of a generated client as plain data, read
//! from the IR. `cargo xtask codegen` writes it beside the generated code, so the
//! next run can tell what a spec change did to the API without the old spec.
//!
//! [`Summary::to_json`] sorts every object's keys and prints one record (a field, a
//! parameter) per line, so the file is deterministic and its diff reads like the change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ir::{self, Api, BodyKind, OutcomeBody, TypeKind, TypeRef};

/// The version of the summary's layout; a summary of another version is not compared.
pub const FORMAT: u32 = 1;

/// The public API of a generated client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The spec's title and version.
    pub api: String,
    /// The default error body of `Error<E>`, if operations share one.
    pub default_error: Option<String>,
    /// [`FORMAT`] when written.
    pub format: u32,
    /// The config's `keep_unknown_fields`.
    pub keep_unknown_fields: bool,
    /// Operations by Rust method name.
    pub operations: BTreeMap<String, OperationSummary>,
    /// Server constants by name.
    pub servers: BTreeMap<String, ServerSummary>,
    /// Named types by Rust name.
    pub types: BTreeMap<String, TypeSummary>,
}

/// A server constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSummary {
    /// The URL template.
    pub url: String,
    /// Its variables with their defaults.
    pub variables: BTreeMap<String, String>,
}

/// One method of the client, with its request struct and response enum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationSummary {
    /// Whether an `…_at(url, …)` method exists too.
    pub at_url: bool,
    /// The request body.
    pub body: Option<BodySummary>,
    /// The error body type of `Error<E>`.
    pub error: String,
    /// Header parameters (fields of the request struct) by Rust name.
    pub header: BTreeMap<String, ParamSummary>,
    /// `METHOD /path`.
    pub http: String,
    /// The spec's `operationId`.
    pub operation_id: String,
    /// Success outcomes by status.
    pub outcomes: BTreeMap<String, OutcomeSummary>,
    /// Path parameters, in the order the method takes them.
    pub path: Vec<PathParamSummary>,
    /// JSON pointer of the operation.
    pub pointer: String,
    /// Query parameters (fields of the request struct) by Rust name.
    pub query: BTreeMap<String, ParamSummary>,
    /// The request struct, when there is one.
    pub request_type: Option<String>,
    /// The response enum, when there is one.
    pub response_type: Option<String>,
    /// The server constant.
    pub server: String,
}

/// A path parameter: an argument of the method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathParamSummary {
    /// Rust name.
    pub name: String,
    /// JSON pointer.
    pub pointer: String,
    /// Rust type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Name in the path template.
    pub wire: String,
}

/// A query or header parameter: a field of the request struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSummary {
    /// JSON pointer.
    pub pointer: String,
    /// Whether it is required (else the field is an `Option`).
    pub required: bool,
    /// Rust type, without the `Option` of an optional parameter.
    #[serde(rename = "type")]
    pub ty: String,
    /// How it is written when not as its text (`form`): `json`, `deepObject`,
    /// `spaceDelimited`, `pipeDelimited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Name on the wire.
    pub wire: String,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySummary {
    /// Its media type.
    pub media_type: String,
    /// Whether it is required (else an `Option`).
    pub required: bool,
    /// Rust type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// A success outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeSummary {
    /// Rust type of the body (`()` when there is none).
    pub body: String,
    /// Response headers by Rust name.
    pub headers: BTreeMap<String, HeaderSummary>,
    /// Variant of the response enum.
    pub variant: String,
}

/// A response header of an outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderSummary {
    /// Rust type (always inside an `Option`).
    #[serde(rename = "type")]
    pub ty: String,
    /// How it is read when not as one value's text: `list`, `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// Header name.
    pub wire: String,
}

/// A named type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeSummary {
    /// JSON pointer of its schema.
    pub pointer: String,
    /// Where operations use it.
    pub usage: Usage,
    /// What it is.
    #[serde(flatten)]
    pub shape: Shape,
}

/// Where operations use a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Usage {
    /// Sent only: users build it.
    Request,
    /// Read only: users never build it.
    Response,
    /// Sent and read.
    Both,
    /// Neither (a type no operation reaches).
    None,
}

/// What a named type is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A struct.
    Struct {
        /// Value type of the flattened `additional_properties` map, if any.
        additional: Option<String>,
        /// Whether it derives `Default`.
        default: bool,
        /// Fields by Rust name.
        fields: BTreeMap<String, FieldSummary>,
        /// Whether it is `#[non_exhaustive]` (no struct literals outside the crate).
        non_exhaustive: bool,
        /// Rust name of the flattened map of unknown members, if any.
        unknown_fields: Option<String>,
    },
    /// An open enum (`#[non_exhaustive]`, unknown values kept).
    Enum {
        /// Wire values by Rust variant name.
        values: BTreeMap<String, String>,
    },
    /// A union (`#[non_exhaustive]`, other values kept).
    Union {
        /// The property that tells the alternatives apart.
        discriminator: Option<String>,
        /// Whether it has a text form (`Display`: every alternative has one).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        text: bool,
        /// Alternatives by Rust variant name.
        variants: BTreeMap<String, VariantSummary>,
    },
    /// `pub type X = Y;`
    Alias {
        /// Rust type it names.
        target: String,
    },
}

/// A struct field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSummary {
    /// Whether the field is an `Option`.
    pub optional: bool,
    /// JSON pointer of the property.
    pub pointer: String,
    /// Rust type, without the `Option` of an optional field (`Box<T>` when boxed).
    #[serde(rename = "type")]
    pub ty: String,
    /// Property name on the wire.
    pub wire: String,
}

/// An alternative of a union.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSummary {
    /// The discriminator value that selects it.
    pub tag: Option<String>,
    /// Rust type it holds.
    #[serde(rename = "type")]
    pub ty: String,
}

impl Summary {
    /// The summary of an API.
    pub fn of(api: &Api) -> Summary {
        Summary {
            api: format!("{} {}", api.title, api.version),
            default_error: api.default_error.as_ref().map(rust_type),
            format: FORMAT,
            keep_unknown_fields: api.keep_unknown_fields,
            operations: api
                .operations
                .iter()
                .map(|op| (op.method_name.clone(), operation(op)))
                .collect(),
            servers: api
                .servers
                .iter()
                .map(|(name, server)| {
                    let summary = ServerSummary {
                        url: server.url_template.clone(),
                        variables: server.variables.clone(),
                    };
                    (name.clone(), summary)
                })
                .collect(),
            types: api
                .types
                .iter()
                .map(|(name, def)| (name.clone(), type_summary(def)))
                .collect(),
        }
    }

    /// Reads a summary written by [`to_json`](Self::to_json); the error says where
    /// the text is wrong (line and column).
    pub fn from_json(text: &str) -> Result<Summary, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The summary as JSON with sorted keys: containers one member per line, except
    /// small records of plain values (a field, a parameter), which take one line each.
    pub fn to_json(&self) -> String {
        // A summary is strings, booleans and maps with string keys: it always serializes.
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut out = Vec::with_capacity(64 * 1024);
        write_json(&value, 0, &mut out);
        out.push(b'\n');
        // serde_json writes UTF-8, and so does everything else here.
        String::from_utf8(out).unwrap_or_default()
    }
}

fn operation(op: &ir::Operation) -> OperationSummary {
    let params = |params: &[ir::Param]| {
        params
            .iter()
            .map(|p| {
                let style = match p.style {
                    Some(ir::Style::DeepObject) => Some("deepObject"),
                    Some(ir::Style::SpaceDelimited) => Some("spaceDelimited"),
                    Some(ir::Style::PipeDelimited) => Some("pipeDelimited"),
                    Some(ir::Style::Json) => Some("json"),
                    Some(ir::Style::Form) => None,
                    None if p.json => Some("json"),
                    None => None,
                };
                let summary = ParamSummary {
                    pointer: p.pointer.clone(),
                    required: p.required,
                    ty: rust_type(&p.ty),
                    style: style.map(str::to_owned),
                    wire: p.wire_name.clone(),
                };
                (p.rust_name.clone(), summary)
            })
            .collect()
    };
    OperationSummary {
        at_url: op.at_url,
        body: op.body.as_ref().map(|body| BodySummary {
            media_type: body.media_type.clone(),
            required: body.required,
            ty: body_type(&body.kind),
        }),
        error: rust_type(&op.error),
        header: params(&op.header_params),
        http: format!("{} {}", op.http_method, op.path),
        operation_id: op.id.clone(),
        outcomes: op
            .outcomes
            .iter()
            .map(|o| (o.status.to_string(), outcome(o)))
            .collect(),
        path: op
            .path_params
            .iter()
            .map(|p| PathParamSummary {
                name: p.rust_name.clone(),
                pointer: p.pointer.clone(),
                ty: rust_type(&p.ty),
                wire: p.wire_name.clone(),
            })
            .collect(),
        pointer: op.pointer.clone(),
        query: params(&op.query_params),
        request_type: op.request_type.clone(),
        response_type: op.response_type.clone(),
        server: op.server.clone(),
    }
}

/// The Rust type of a request body; a multipart body lists its parts in wire order
/// (`?` marks an optional one), since they are fields of the request struct users build.
fn body_type(kind: &BodyKind) -> String {
    match kind {
        BodyKind::Json(ty) | BodyKind::Form { ty, .. } => rust_type(ty),
        BodyKind::Multipart { parts } => {
            let parts: Vec<String> = parts
                .iter()
                .map(|part| {
                    let ty = match &part.encoding {
                        ir::PartEncoding::Json { ty, .. } => rust_type(ty),
                        ir::PartEncoding::Text {
                            ty, list: false, ..
                        } => rust_type(ty),
                        ir::PartEncoding::Text { ty, list: true, .. } => {
                            format!("Vec<{}>", rust_type(ty))
                        }
                        ir::PartEncoding::Binary { .. } => "FilePart".to_owned(),
                    };
                    let optional = if part.required { "" } else { "?" };
                    format!("{}{optional}: {ty}", part.wire_name)
                })
                .collect();
            format!("multipart({})", parts.join(", "))
        }
        BodyKind::Bytes => "Body".to_owned(),
    }
}

fn outcome(outcome: &ir::Outcome) -> OutcomeSummary {
    OutcomeSummary {
        body: match &outcome.body {
            OutcomeBody::Empty => "()".to_owned(),
            OutcomeBody::Json(ty) => rust_type(ty),
            OutcomeBody::Bytes => "Bytes".to_owned(),
            OutcomeBody::Raw => "RawResponse".to_owned(),
        },
        headers: outcome
            .headers
            .iter()
            .map(|h| {
                let summary = HeaderSummary {
                    ty: rust_type(&h.ty),
                    form: match h.form {
                        ir::HeaderForm::Text => None,
                        ir::HeaderForm::List => Some("list".to_owned()),
                        ir::HeaderForm::Json => Some("json".to_owned()),
                    },
                    wire: h.wire_name.clone(),
                };
                (h.rust_name.clone(), summary)
            })
            .collect(),
        variant: outcome.variant.clone(),
    }
}

fn type_summary(def: &ir::TypeDef) -> TypeSummary {
    let shape = match &def.kind {
        TypeKind::Struct {
            fields,
            additional,
            default,
            unknown_fields,
        } => Shape::Struct {
            additional: additional.as_ref().map(rust_type),
            default: *default,
            fields: fields
                .iter()
                .map(|f| {
                    let mut ty = rust_type(&f.ty);
                    if f.boxed {
                        ty = format!("Box<{ty}>");
                    }
                    let summary = FieldSummary {
                        optional: f.is_option(),
                        pointer: f.pointer.clone(),
                        ty,
                        wire: f.wire_name.clone(),
                    };
                    (f.rust_name.clone(), summary)
                })
                .collect(),
            non_exhaustive: def.usage.read_only(),
            unknown_fields: unknown_fields.clone(),
        },
        TypeKind::Enum { variants } => Shape::Enum {
            values: variants
                .iter()
                .map(|v| (v.rust_name.clone(), v.wire_value.clone()))
                .collect(),
        },
        TypeKind::Union {
            variants,
            discriminator,
            text,
        } => Shape::Union {
            discriminator: discriminator.clone(),
            text: *text,
            variants: variants
                .iter()
                .map(|v| {
                    let summary = VariantSummary {
                        tag: v.tag.clone(),
                        ty: rust_type(&v.ty),
                    };
                    (v.rust_name.clone(), summary)
                })
                .collect(),
        },
        TypeKind::Alias(target) => Shape::Alias {
            target: rust_type(target),
        },
    };
    let usage = match (def.usage.request, def.usage.response) {
        (true, true) => Usage::Both,
        (true, false) => Usage::Request,
        (false, true) => Usage::Response,
        (false, false) => Usage::None,
    };
    TypeSummary {
        pointer: def.pointer.clone(),
        usage,
        shape,
    }
}

/// A type as users write it (`serde_json` and `chrono` paths shortened).
pub fn rust_type(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "String".to_owned(),
        TypeRef::Bool => "bool".to_owned(),
        TypeRef::I32 => "i32".to_owned(),
        TypeRef::I64 => "i64".to_owned(),
        TypeRef::F64 => "f64".to_owned(),
        TypeRef::DateTime => "DateTime<FixedOffset>".to_owned(),
        TypeRef::Date => "NaiveDate".to_owned(),
        TypeRef::Json => "Value".to_owned(),
        TypeRef::JsonObject => "Map<String, Value>".to_owned(),
        TypeRef::Vec(inner) => format!("Vec<{}>", rust_type(inner)),
        TypeRef::Map(inner) => format!("BTreeMap<String, {}>", rust_type(inner)),
        TypeRef::Option(inner) => format!("Option<{}>", rust_type(inner)),
    }
}

/// Records of at most this many plain values take one line.
const RECORD_MEMBERS: usize = 5;

/// Writes `value` at `indent`, keys sorted: a container one member per line, except
/// a small record of plain values (and an empty container), which stays on one line.
fn write_json(value: &serde_json::Value, indent: usize, out: &mut Vec<u8>) {
    use serde_json::Value;
    let empty = |v: &Value| match v {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    };
    let plain = |v: &Value| empty(v) || !matches!(v, Value::Object(_) | Value::Array(_));
    let one_line = match value {
        Value::Object(map) => map.len() <= RECORD_MEMBERS && map.values().all(plain),
        other => plain(other),
    };
    let members: Vec<(Option<&String>, &Value)> = match value {
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().map(|(k, v)| (Some(k), v)).collect();
            members.sort_unstable_by_key(|(key, _)| *key);
            members
        }
        Value::Array(items) => items.iter().map(|v| (None, v)).collect(),
        // Writing a plain value into a Vec cannot fail.
        scalar => {
            let _ = serde_json::to_writer(out, scalar);
            return;
        }
    };
    let (open, close) = if value.is_object() {
        (b'{', b'}')
    } else {
        (b'[', b']')
    };
    out.push(open);
    for (i, (key, member)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if one_line {
            if i > 0 {
                out.push(b' ');
            }
        } else {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', indent + 2));
        }
        if let Some(key) = key {
            let _ = serde_json::to_writer(&mut *out, key);
            out.extend_from_slice(b": ");
        }
        write_json(member, indent + 2, out);
    }
    if !one_line {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', indent));
    }
    out.push(close);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every object's keys, recursively, are in sorted order.
    fn keys_sorted(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Object(map) => {
                map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b)
                    && map.values().all(keys_sorted)
            }
            serde_json::Value::Array(items) => items.iter().all(keys_sorted),
            _ => true,
        }
    }

    fn sample() -> Summary {
        let field = |ty: &str, optional| FieldSummary {
            optional,
            pointer: "/components/schemas/File/properties/id".into(),
            ty: ty.into(),
            wire: "id".into(),
        };
        let file = TypeSummary {
            pointer: "/components/schemas/File".into(),
            usage: Usage::Response,
            shape: Shape::Struct {
                additional: None,
                default: false,
                fields: [
                    ("id".to_owned(), field("String", false)),
                    ("size".to_owned(), field("i64", true)),
                ]
                .into(),
                non_exhaustive: true,
                unknown_fields: Some("unknown_fields".into()),
            },
        };
        let status = TypeSummary {
            pointer: "/components/schemas/Status".into(),
            usage: Usage::Both,
            shape: Shape::Enum {
                values: [("Active".to_owned(), "active".to_owned())].into(),
            },
        };
        Summary {
            api: "Test 1".into(),
            default_error: None,
            format: FORMAT,
            keep_unknown_fields: true,
            operations: BTreeMap::new(),
            servers: [(
                "API".to_owned(),
                ServerSummary {
                    url: "https://{host}/2.0".into(),
                    variables: [("host".to_owned(), "api.example.com".to_owned())].into(),
                },
            )]
            .into(),
            types: [("File".to_owned(), file), ("Status".to_owned(), status)].into(),
        }
    }

    #[test]
    fn the_json_has_sorted_keys_one_record_a_line_and_reads_back() {
        let summary = sample();
        let text = summary.to_json();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(keys_sorted(&value), "{text}");
        assert_eq!(Summary::from_json(&text).unwrap(), summary);
        assert!(
            text.contains(
                "\n        \"size\": {\"optional\": true, \"pointer\": \"/components/schemas/File/properties/id\", \"type\": \"i64\", \"wire\": \"id\"}"
            ),
            "a field is one line:\n{text}"
        );
        assert!(
            text.contains("\"kind\":"),
            "the shape is flattened into the type:\n{text}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn a_broken_summary_is_an_error_with_its_line() {
        let text = sample()
            .to_json()
            .replacen("\"format\": 1", "\"format\": \"one\"", 1);
        let error = Summary::from_json(&text).unwrap_err();
        assert!(error.line() > 1, "{error}");
    }
}

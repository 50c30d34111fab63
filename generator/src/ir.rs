//! The intermediate representation: plain data between lowering and emitting.
//!
//! Nothing here refers to `openapiv3` or to tokens. Maps are `BTreeMap`s and every
//! list has a defined order, so the same spec always gives the same IR, and the
//! emitters (which read only this module) always give the same bytes.

use std::collections::BTreeMap;

/// A whole API, ready to emit.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    /// The spec's `info.title`.
    pub title: String,
    /// The spec's `info.version`.
    pub version: String,
    /// The spec's `info.description`.
    pub docs: Option<String>,
    /// Every server an emitted operation uses, by its Rust constant name.
    pub servers: BTreeMap<String, Server>,
    /// Host patterns, sorted, that URLs given by any server may point at
    /// besides the hosts of the server templates.
    pub trusted_hosts: Vec<String>,
    /// Operations, sorted by Rust method name.
    pub operations: Vec<Operation>,
    /// Named types, by Rust type name.
    pub types: BTreeMap<String, TypeDef>,
    /// The error body type most operations share, if any (emitted as the default of `Error<E>`).
    pub default_error: Option<TypeRef>,
    /// Whether structs read from responses keep the members the spec does not list
    /// (the config's `keep_unknown_fields`; applied by a pass).
    pub keep_unknown_fields: bool,
}

/// A server URL template with its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// The name users pass to the runtime's configuration (snake case).
    pub name: String,
    /// The URL template, e.g. `https://{box-upload-server}/api/2.0`.
    pub url_template: String,
    /// Variables with their default values.
    pub variables: BTreeMap<String, String>,
    /// The server's description.
    pub docs: Option<String>,
}

/// A named type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// Rust type name.
    pub name: String,
    /// Doc comment.
    pub docs: Option<String>,
    /// What the type is.
    pub kind: TypeKind,
    /// JSON pointer of the schema the type is defined from.
    pub pointer: String,
    /// Where operations use the type (set by a pass).
    pub usage: Usage,
}

/// Where the operations use a type, directly or inside another type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// In a parameter or a request body: users build values of it.
    pub request: bool,
    /// In a response or error body or header: users read values of it.
    pub response: bool,
}

impl Usage {
    /// Read from responses and never sent: users only read it, so it can be
    /// `#[non_exhaustive]` and gain fields without breaking them.
    pub fn read_only(self) -> bool {
        self.response && !self.request
    }
}

/// The shapes a named type can take.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// A struct; `additional` is the value type of unlisted properties, kept in a flattened map.
    Struct {
        /// Fields in spec order (inherited ones first).
        fields: Vec<Field>,
        /// Value type of `additionalProperties`, if the object allows them.
        additional: Option<TypeRef>,
        /// Whether every field has a default, so `Default` can be derived.
        default: bool,
        /// Rust name of the flattened map that keeps members the spec does not list
        /// (structs read from responses, with `keep_unknown_fields`; set by a pass).
        unknown_fields: Option<String>,
    },
    /// An open string enum: known values plus `Unknown(String)` for everything else.
    Enum {
        /// Known values in spec order.
        variants: Vec<EnumVariant>,
    },
    /// `oneOf` / `anyOf`: one of several types, with an `Other(serde_json::Value)` fallback.
    Union {
        /// The alternatives, in spec order.
        variants: Vec<UnionVariant>,
        /// The property that tells the alternatives apart, when there is one.
        discriminator: Option<String>,
        /// Every alternative has a text form (scalars, enums, such unions): the union
        /// has one too (`Display`), so it can be a path, query or header parameter.
        text: bool,
    },
    /// Another name for a type (`pub type X = Y;`).
    Alias(TypeRef),
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Rust field name (sanitized).
    pub rust_name: String,
    /// Property name on the wire.
    pub wire_name: String,
    /// Field type, without the `Option` that `required`/`nullable` add.
    pub ty: TypeRef,
    /// Listed in `required`.
    pub required: bool,
    /// `null` is allowed.
    pub nullable: bool,
    /// Boxed to break a cycle of directly contained types.
    pub boxed: bool,
    /// Doc comment.
    pub docs: Option<String>,
    /// JSON pointer of the property's schema (in the part of an `allOf` that declares it).
    pub pointer: String,
}

impl Field {
    /// Whether the Rust field is an `Option`.
    pub fn is_option(&self) -> bool {
        !self.required || self.nullable
    }
}

/// A known value of an open enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumVariant {
    /// Rust variant name.
    pub rust_name: String,
    /// Value on the wire.
    pub wire_value: String,
}

/// An alternative of a union.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionVariant {
    /// Rust variant name.
    pub rust_name: String,
    /// The alternative's type.
    pub ty: TypeRef,
    /// The discriminator value that selects this alternative.
    pub tag: Option<String>,
}

/// A reference to a type, as used in fields, parameters and bodies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeRef {
    /// A type in [`Api::types`].
    Named(String),
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// An RFC 3339 date-time.
    DateTime,
    /// A calendar date.
    Date,
    /// Any JSON value.
    Json,
    /// A JSON object with any members.
    JsonObject,
    /// A list.
    Vec(Box<TypeRef>),
    /// A map with string keys.
    Map(Box<TypeRef>),
    /// A list item or map value that may be `null`.
    Option(Box<TypeRef>),
}

/// One API operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The spec's `operationId`.
    pub id: String,
    /// JSON pointer of the operation (`/paths/~1files/post`).
    pub pointer: String,
    /// Rust method name.
    pub method_name: String,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Path template, e.g. `/files/upload_sessions/{upload_session_id}`.
    pub path: String,
    /// Constant name of the server in [`Api::servers`].
    pub server: String,
    /// Whether the call can also be made at an absolute URL (its server has variables).
    pub at_url: bool,
    /// Safe to retry.
    pub idempotent: bool,
    /// Sends the access token: `false` when the operation's `security` (or else the
    /// spec's) is declared and names no scheme (`security: []`), as Box's token endpoint.
    pub auth: bool,
    /// Doc comment (summary and description).
    pub docs: Option<String>,
    /// Path parameters, in template order.
    pub path_params: Vec<Param>,
    /// Query parameters, in spec order.
    pub query_params: Vec<Param>,
    /// Header parameters, in spec order.
    pub header_params: Vec<Param>,
    /// Request body.
    pub body: Option<RequestBody>,
    /// Name of the request struct, when the operation has query or header parameters,
    /// or a multipart or bytes body.
    pub request_type: Option<String>,
    /// Success outcomes, by status.
    pub outcomes: Vec<Outcome>,
    /// Name of the response enum, when there is more than one outcome or an outcome has headers.
    pub response_type: Option<String>,
    /// Type of the error body.
    pub error: TypeRef,
}

/// A path, query or header parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Rust name.
    pub rust_name: String,
    /// Name on the wire.
    pub wire_name: String,
    /// Type.
    pub ty: TypeRef,
    /// Required.
    pub required: bool,
    /// For arrays in a query: `true` repeats the name, `false` joins with commas.
    pub explode: bool,
    /// Sent as JSON text (an object, or a list of objects, in a query).
    pub json: bool,
    /// A query parameter's `style`, when not `form` (which `explode` and `json` say).
    pub style: Option<Style>,
    /// Doc comment.
    pub docs: Option<String>,
    /// JSON pointer of the parameter where the operation (or its path item) lists it.
    pub pointer: String,
}

/// How a value becomes `name=value` pairs: OpenAPI's `style` (`oas_runtime::Style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `form`.
    Form,
    /// `spaceDelimited`.
    SpaceDelimited,
    /// `pipeDelimited`.
    PipeDelimited,
    /// `deepObject`.
    DeepObject,
    /// JSON text (a field whose encoding is a JSON media type).
    Json,
}

/// How a field of a form body is written, when not as a `form` style, exploded.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldStyle {
    /// The field's wire name.
    pub wire_name: String,
    /// Its style.
    pub style: Style,
    /// Its `explode`.
    pub explode: bool,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    /// Media type sent as `Content-Type`.
    pub media_type: String,
    /// How the body is encoded.
    pub kind: BodyKind,
    /// Required.
    pub required: bool,
    /// Doc comment.
    pub docs: Option<String>,
}

/// How a request body is encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyKind {
    /// Serialized as JSON.
    Json(TypeRef),
    /// `application/x-www-form-urlencoded`: a struct (or map) of text fields,
    /// serialized as a form in declared order.
    Form {
        /// The body's type.
        ty: TypeRef,
        /// The wire names of its fields, in declared order (none for a map).
        fields: Vec<String>,
        /// When a field is a list or an object, or its encoding names a style: every
        /// field written by its style (`Request::form_styled`), these with their own;
        /// else `None`, and the body is a flat form of text fields (`Request::form`).
        styled: Option<Vec<FieldStyle>>,
    },
    /// `multipart/form-data`: one part per property of the schema, each a field of
    /// the operation's request struct.
    Multipart {
        /// The parts, in the order the schema declares them (servers may refuse
        /// another order).
        parts: Vec<Part>,
    },
    /// Raw bytes or a byte stream, sent as they are.
    Bytes,
}

/// A part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Rust field name in the request struct.
    pub rust_name: String,
    /// The part's name on the wire.
    pub wire_name: String,
    /// Listed in `required` (else it is sent only when set).
    pub required: bool,
    /// Doc comment.
    pub docs: Option<String>,
    /// How the part's content is written.
    pub encoding: PartEncoding,
}

/// How a part's content is written.
#[derive(Debug, Clone, PartialEq)]
pub enum PartEncoding {
    /// JSON text (objects, lists of objects, anything the encoding says is JSON).
    Json {
        /// The value's type.
        ty: TypeRef,
        /// The part's `Content-Type` (`application/json` unless the encoding says).
        content_type: String,
    },
    /// The text form of a scalar or enum; a list of them is one part per item.
    Text {
        /// The value's type.
        ty: TypeRef,
        /// The type is a list: one part per item, all with the part's name.
        list: bool,
        /// The part's `Content-Type` when the encoding names one (else none is sent,
        /// which means `text/plain`).
        content_type: Option<String>,
    },
    /// A file (`type: string, format: binary`): bytes or a stream with a file name.
    Binary {
        /// The `Content-Type` sent when the caller gives none.
        content_type: String,
    },
}

/// A success outcome of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The statuses it matches (e.g. 201, or 2XX).
    pub status: Status,
    /// Rust variant name (e.g. `Created`).
    pub variant: String,
    /// Body.
    pub body: OutcomeBody,
    /// Response headers the spec declares.
    pub headers: Vec<ResponseHeader>,
    /// Doc comment.
    pub docs: Option<String>,
}

impl Outcome {
    /// Whether the outcome's value carries the status it came with: a range's does
    /// (its codes may mean different things), unless it is the raw response.
    pub fn carries_status(&self) -> bool {
        matches!(self.status, Status::Range(_)) && self.body != OutcomeBody::Raw
    }
}

/// How a response header's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderForm {
    /// One value's text.
    Text,
    /// A list (`ty` is a `Vec`): comma-separated items, over every line of the header.
    List,
    /// JSON text (`content` in a JSON media type).
    Json,
}

/// The statuses an outcome matches. Codes sort before ranges, which is the order
/// their match arms need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// One status code.
    Code(u16),
    /// Every code of a class: `Range(2)` is 200 to 299 (`2XX` in a spec).
    Range(u16),
}

impl Status {
    /// The lowest and highest code it matches.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            Status::Code(code) => (code, code),
            Status::Range(class) => (class * 100, class * 100 + 99),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Code(code) => write!(f, "{code}"),
            Status::Range(class) => write!(f, "{class}XX"),
        }
    }
}

/// The body of an outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(TypeRef),
    /// Raw bytes.
    Bytes,
    /// The whole response (status, headers and body), for an operation that declares
    /// no success response: `oas_runtime::RawResponse`.
    Raw,
}

/// A response header.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHeader {
    /// Rust field name.
    pub rust_name: String,
    /// Header name.
    pub wire_name: String,
    /// Type (parsed with `FromStr`, by `oas_runtime::header::decode`). Always optional in
    /// the emitted code: a header the spec requires but the server leaves out, or writes
    /// in a form that does not parse, is not worth failing a call over.
    pub ty: TypeRef,
    /// How its value is written.
    pub form: HeaderForm,
    /// Doc comment.
    pub docs: Option<String>,
}

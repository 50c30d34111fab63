//! Emit: IR → token streams, one per output file. Reads only the IR.
//!
//! The emitted code names std items unqualified (the type namespace reserves them),
//! and everything else by absolute path: `::serde`, `::serde_json`, `::chrono` and
//! `::oas_runtime` must be dependencies of the crate that includes it.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::*;
use crate::naming::shouty;

/// The emitted files: `(file name, tokens)`, each the tokens of its [`units`] in order.
pub fn emit(api: &Api) -> Vec<(&'static str, TokenStream)> {
    let mut files: Vec<(&'static str, TokenStream)> = Vec::new();
    for unit in units(api) {
        let tokens = unit.emit(api);
        match files.last_mut() {
            Some((file, whole)) if *file == unit.file => whole.extend(tokens),
            _ => files.push((unit.file, tokens)),
        }
    }
    files
}

/// Types per unit: enough units to keep every core busy on a big spec, few enough that
/// a small spec is not cut into crumbs.
const TYPES_PER_UNIT: usize = 48;

/// A run of top-level items of one output file that is emitted, parsed and printed on
/// its own, so that a big spec's output is formatted on several threads (tokens are
/// `!Send`: a unit is emitted on the thread that formats it). The units of a file, in
/// order, are the whole file.
#[derive(Debug, Clone)]
pub struct Unit<'a> {
    /// The output file the unit belongs to.
    pub file: &'static str,
    piece: Piece<'a>,
}

#[derive(Debug, Clone)]
enum Piece<'a> {
    Mod,
    /// The module docs.
    TypesHead,
    Types(Vec<&'a TypeDef>),
    Client,
}

/// The units of every output file, files in the order `mod.rs`, `types.rs`, `client.rs`.
pub fn units(api: &Api) -> Vec<Unit<'_>> {
    let defs: Vec<&TypeDef> = api.types.values().collect();
    let mut units = vec![
        Unit {
            file: "mod.rs",
            piece: Piece::Mod,
        },
        Unit {
            file: "types.rs",
            piece: Piece::TypesHead,
        },
    ];
    units.extend(defs.chunks(TYPES_PER_UNIT).map(|chunk| Unit {
        file: "types.rs",
        piece: Piece::Types(chunk.to_vec()),
    }));
    units.push(Unit {
        file: "client.rs",
        piece: Piece::Client,
    });
    units
}

impl Unit<'_> {
    /// The unit's tokens.
    pub fn emit(&self, api: &Api) -> TokenStream {
        match &self.piece {
            Piece::Mod => emit_mod(api),
            Piece::TypesHead => emit_types_head(),
            Piece::Types(defs) => defs.iter().map(|def| emit_type(def)).collect(),
            Piece::Client => emit_client(api),
        }
    }

    /// A rough measure of the unit's work, to start the biggest units first.
    pub fn weight(&self, api: &Api) -> usize {
        match &self.piece {
            Piece::Mod | Piece::TypesHead => 1,
            Piece::Types(defs) => defs.len(),
            Piece::Client => api.operations.len() * 2,
        }
    }
}

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A spec string (a wire value, a path, an id) shown in a doc line: control characters
/// are escaped, as a line break or a bare CR would end or break the comment.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Spec prose split into doc lines at any line break: `\r\n`, `\n` or a lone `\r`
/// (which a doc comment may not hold).
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n").flat_map(|part| part.split(['\n', '\r']))
}

/// Doc attributes from spec prose. Code fences become `text` (a description is not
/// Rust and must not run as a doctest), and deep indentation, which markdown would
/// read as an indented code block, is reduced.
fn docs(text: Option<&str>) -> TokenStream {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return TokenStream::new();
    };
    let mut in_fence = false;
    let lines = prose_lines(text).map(|line| {
        let trimmed = line.trim_start();
        let line = if trimmed.starts_with("```") {
            in_fence = !in_fence;
            if in_fence {
                "```text".to_owned()
            } else {
                "```".to_owned()
            }
        } else if !in_fence && line.len() - trimmed.len() >= 4 {
            format!("  {trimmed}")
        } else {
            line.trim_end().to_owned()
        };
        if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        }
    });
    let lines: Vec<String> = lines.collect();
    let close = in_fence.then(|| quote! { #[doc = " ```"] });
    quote! { #( #[doc = #lines] )* #close }
}

fn module_docs(text: &str) -> TokenStream {
    let lines = prose_lines(text).map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #![doc = #lines] )* }
}

/// The Rust type for a type reference.
fn type_tokens(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::Named(name) => {
            let name = ident(name);
            quote! { #name }
        }
        TypeRef::String => quote! { String },
        TypeRef::Bool => quote! { bool },
        TypeRef::I32 => quote! { i32 },
        TypeRef::I64 => quote! { i64 },
        TypeRef::F64 => quote! { f64 },
        TypeRef::DateTime => quote! { ::chrono::DateTime<::chrono::FixedOffset> },
        TypeRef::Date => quote! { ::chrono::NaiveDate },
        TypeRef::Json => quote! { ::serde_json::Value },
        TypeRef::JsonObject => quote! { ::serde_json::Map<String, ::serde_json::Value> },
        TypeRef::Vec(inner) => {
            let inner = type_tokens(inner);
            quote! { Vec<#inner> }
        }
        TypeRef::Map(inner) => {
            let inner = type_tokens(inner);
            quote! { ::std::collections::BTreeMap<String, #inner> }
        }
        TypeRef::Option(inner) => {
            let inner = type_tokens(inner);
            quote! { Option<#inner> }
        }
    }
}

fn emit_mod(api: &Api) -> TokenStream {
    let mut text = format!("Client for {} (API version {}).", api.title, api.version);
    if let Some(d) = &api.docs {
        text.push_str("\n\n");
        text.push_str(d.trim());
    }
    let docs = module_docs(&text);
    quote! {
        #docs
        // Spec prose is rendered as written; these lints judge its markdown, not our code.
        #![allow(
            clippy::doc_lazy_continuation,
            clippy::doc_overindented_list_items,
            rustdoc::bare_urls,
            rustdoc::broken_intra_doc_links,
            rustdoc::invalid_html_tags,
        )]

        mod client;
        pub mod types;

        pub use client::*;
    }
}

// ----- types -----------------------------------------------------------------------

/// The start of `types.rs`: its docs.
fn emit_types_head() -> TokenStream {
    quote! {
        //! Request and response types.
    }
}

fn emit_type(def: &TypeDef) -> TokenStream {
    let name = ident(&def.name);
    let doc = docs(def.docs.as_deref());
    match &def.kind {
        TypeKind::Struct {
            fields,
            additional,
            default,
        } => {
            let fields = fields.iter().map(emit_field);
            let additional = additional.as_ref().map(|ty| {
                let ty = type_tokens(ty);
                quote! {
                    /// Properties not listed above.
                    #[serde(flatten)]
                    pub additional_properties: ::std::collections::BTreeMap<String, #ty>,
                }
            });
            let default = default.then(|| quote! { Default, });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, #default ::serde::Serialize, ::serde::Deserialize)]
                pub struct #name {
                    #( #fields )*
                    #additional
                }
            }
        }
        TypeKind::Enum { variants } => emit_enum(&name, doc, variants),
        TypeKind::Union {
            variants,
            discriminator,
        } => emit_union(&name, doc, variants, discriminator.as_deref()),
        TypeKind::Alias(ty) => {
            let ty = type_tokens(ty);
            quote! {
                #doc
                pub type #name = #ty;
            }
        }
    }
}

fn emit_field(field: &Field) -> TokenStream {
    let doc = docs(field.docs.as_deref());
    let name = ident(&field.rust_name);
    let mut ty = type_tokens(&field.ty);
    if field.boxed {
        ty = quote! { Box<#ty> };
    }
    let rename = (field.rust_name != field.wire_name).then(|| {
        let wire = &field.wire_name;
        quote! { rename = #wire, }
    });
    let (ty, skip) = if field.is_option() {
        // An optional field that is absent stays absent on the wire; a required
        // nullable one is written as `null`.
        let skip =
            (!field.required).then(|| quote! { default, skip_serializing_if = "Option::is_none", });
        (quote! { Option<#ty> }, skip)
    } else {
        (ty, None)
    };
    let attr = (rename.is_some() || skip.is_some()).then(|| quote! { #[serde(#rename #skip)] });
    quote! {
        #doc
        #attr
        pub #name: #ty,
    }
}

fn emit_enum(name: &Ident, doc: TokenStream, variants: &[EnumVariant]) -> TokenStream {
    let names: Vec<Ident> = variants.iter().map(|v| ident(&v.rust_name)).collect();
    let values: Vec<&str> = variants.iter().map(|v| v.wire_value.as_str()).collect();
    let variant_docs = values.iter().map(|v| format!(" `{}`", shown(v)));
    quote! {
        #doc
        ///
        /// An open enum: a value this client does not know is kept as `Unknown`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #names, )*
            /// A value not known when this client was generated.
            Unknown(String),
        }

        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#names => #values, )*
                    Self::Unknown(value) => value,
                }
            }

            fn known(value: &str) -> Option<Self> {
                match value {
                    #( #values => Some(Self::#names), )*
                    _ => None,
                }
            }
        }

        ::oas_runtime::open_enum!(#name);
    }
}

fn emit_union(
    name: &Ident,
    doc: TokenStream,
    variants: &[UnionVariant],
    discriminator: Option<&str>,
) -> TokenStream {
    let names: Vec<Ident> = variants.iter().map(|v| ident(&v.rust_name)).collect();
    let types: Vec<TokenStream> = variants.iter().map(|v| type_tokens(&v.ty)).collect();
    let variant_docs = variants.iter().map(|v| match (&v.tag, discriminator) {
        (Some(tag), Some(property)) => {
            format!(" When `{}` is `{}`.", shown(property), shown(tag))
        }
        _ => format!(" A `{}`.", v.rust_name),
    });
    let decode = match discriminator {
        Some(property) => {
            let tags = variants
                .iter()
                .map(|v| v.tag.clone().unwrap_or_else(|| v.rust_name.clone()));
            quote! {
                let tag = value.get(#property).and_then(::serde_json::Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    #( Some(#tags) => <#types as ::serde::Deserialize>::deserialize(value).map(Self::#names).map_err(::serde::de::Error::custom), )*
                    _ => Ok(Self::Other(value)),
                }
            }
        }
        None => quote! {
            #(
                if let Ok(variant) = <#types as ::serde::Deserialize>::deserialize(&value) {
                    return Ok(Self::#names(variant));
                }
            )*
            Ok(Self::Other(value))
        },
    };
    let how = match discriminator {
        Some(property) => {
            let property = shown(property);
            format!(" Told apart by `{property}`; an unknown `{property}` is kept as `Other`.")
        }
        None => {
            " The first alternative that decodes wins; a value that fits none is kept as `Other`."
                .to_owned()
        }
    };
    quote! {
        #doc
        ///
        #[doc = #how]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #( #[doc = #variant_docs] #names(#types), )*
            /// A value that matches no known alternative.
            Other(::serde_json::Value),
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #( Self::#names(value) => ::serde::Serialize::serialize(value, serializer), )*
                    Self::Other(value) => ::serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                #decode
            }
        }
    }
}

// ----- client ----------------------------------------------------------------------

fn emit_client(api: &Api) -> TokenStream {
    let trusted_hosts = &api.trusted_hosts;
    let servers = api.servers.iter().map(|(const_name, server)| {
        let name = ident(const_name);
        let key = &server.name;
        let url = &server.url_template;
        let var_names = server.variables.keys();
        let var_defaults = server.variables.values();
        let mut text = format!("`{}`", shown(url));
        if let Some(d) = &server.docs {
            text = format!("{}\n\n{text}", d.trim());
        }
        for (var, default) in &server.variables {
            let (var, default) = (shown(var), shown(default));
            text.push_str(&format!("\n\nVariable `{var}`, by default `{default}`."));
        }
        let doc = docs(Some(&text));
        quote! {
            #doc
            pub const #name: ::oas_runtime::Server = ::oas_runtime::Server {
                name: #key,
                url_template: #url,
                variables: &[ #( ::oas_runtime::ServerVariable { name: #var_names, default: #var_defaults }, )* ],
                trusted_hosts: &[ #( #trusted_hosts ),* ],
            };
        }
    });
    let statics = api.operations.iter().map(|op| {
        let name = format_ident!("{}", shouty(&op.method_name));
        let id = &op.id;
        let method = format_ident!("{}", op.http_method);
        let path = &op.path;
        let server = ident(&op.server);
        let idempotent = op.idempotent;
        let doc = format!(
            " `{} {}` (`{}`).",
            op.http_method,
            shown(&op.path),
            shown(&op.id)
        );
        quote! {
            #[doc = #doc]
            pub static #name: ::oas_runtime::Operation = ::oas_runtime::Operation {
                id: #id,
                method: ::oas_runtime::Method::#method,
                path_template: #path,
                server: &super::servers::#server,
                idempotent: #idempotent,
            };
        }
    });
    let default_error = api
        .default_error
        .as_ref()
        .map(type_tokens)
        .unwrap_or_else(|| quote! { ::serde_json::Value });
    let items = api.operations.iter().map(emit_operation_items);
    let methods = api.operations.iter().map(|op| emit_methods(api, op));
    quote! {
        //! The client, its servers and operations.
        #[allow(unused_imports)]
        use super::types::*;

        /// The servers operations are sent to; each can be pointed elsewhere with
        /// `oas_runtime::Config::base_url`.
        pub mod servers {
            #( #servers )*
        }

        /// The static facts of each operation (method, path template, server, retry safety).
        pub mod operations {
            #( #statics )*
        }

        /// The error of a call: an API error carries the decoded error body.
        pub type Error<E = #default_error> = ::oas_runtime::Error<E>;

        #( #items )*

        /// A typed client: one async method per operation.
        #[derive(Debug, Clone)]
        pub struct Client {
            runtime: ::oas_runtime::Client,
        }

        impl Client {
            /// Builds a client from a runtime configuration (auth, servers, timeouts, retries).
            pub fn new(config: ::oas_runtime::Config) -> Result<Self, ::oas_runtime::ConfigError> {
                Ok(Self { runtime: ::oas_runtime::Client::new(config)? })
            }

            /// Wraps an existing runtime client.
            pub fn from_runtime(runtime: ::oas_runtime::Client) -> Self {
                Self { runtime }
            }

            /// The runtime client underneath.
            pub fn runtime(&self) -> &::oas_runtime::Client {
                &self.runtime
            }

            #( #methods )*
        }
    }
}

/// The error type in an operation's signature.
fn error_tokens(api: &Api, op: &Operation) -> TokenStream {
    if api.default_error.as_ref().unwrap_or(&TypeRef::Json) == &op.error {
        quote! { Error }
    } else {
        let ty = type_tokens(&op.error);
        quote! { Error<#ty> }
    }
}

fn success_tokens(op: &Operation) -> TokenStream {
    if let Some(name) = &op.response_type {
        let name = ident(name);
        return quote! { #name };
    }
    match &op.outcomes[0].body {
        OutcomeBody::Empty => quote! { () },
        OutcomeBody::Json(ty) => type_tokens(ty),
        OutcomeBody::Bytes => quote! { ::oas_runtime::Bytes },
    }
}

/// The request struct and response enum of an operation.
fn emit_operation_items(op: &Operation) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(request_type) = &op.request_type {
        let name = ident(request_type);
        let doc = format!(" Inputs of [`Client::{}`].", op.method_name);
        let params = op.query_params.iter().chain(&op.header_params).map(|p| {
            let doc = docs(p.docs.as_deref());
            let field = ident(&p.rust_name);
            let ty = type_tokens(&p.ty);
            let ty = if p.required {
                ty
            } else {
                quote! { Option<#ty> }
            };
            quote! { #doc pub #field: #ty, }
        });
        let body = op.body.as_ref().map(|body| {
            let mut text = body.docs.clone().unwrap_or_default();
            let ty = match &body.kind {
                BodyKind::Json(ty) => type_tokens(ty),
                BodyKind::Bytes => {
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str(&format!(
                        "Sent as `{}`, as it is: owned bytes (`Bytes`, `Vec<u8>`, no copy) or a stream (`Body::from_stream`).",
                        body.media_type
                    ));
                    quote! { ::oas_runtime::Body }
                }
            };
            let doc = docs(Some(&text).filter(|t| !t.is_empty()).map(String::as_str));
            let ty = if body.required { ty } else { quote! { Option<#ty> } };
            let content_type = is_multipart(body).then(|| {
                quote! {
                    /// The `Content-Type` of the body, with its multipart boundary.
                    pub content_type: String,
                }
            });
            quote! { #doc pub body: #ty, #content_type }
        });
        out.extend(quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub struct #name {
                #( #params )*
                #body
            }
        });
    }
    if let Some(response_type) = &op.response_type {
        let name = ident(response_type);
        let doc = format!(" The outcomes of [`Client::{}`].", op.method_name);
        let variants = op.outcomes.iter().map(|outcome| {
            let variant = ident(&outcome.variant);
            let mut text = format!("`{}`", outcome.status);
            if let Some(d) = &outcome.docs {
                text = format!("{text}: {}", d.trim());
            }
            let doc = docs(Some(&text));
            let body = match &outcome.body {
                OutcomeBody::Empty => None,
                OutcomeBody::Json(ty) => Some(type_tokens(ty)),
                OutcomeBody::Bytes => Some(quote! { ::oas_runtime::Bytes }),
            };
            if outcome.headers.is_empty() {
                match body {
                    Some(body) => quote! { #doc #variant(#body), },
                    None => quote! { #doc #variant, },
                }
            } else {
                let headers = outcome.headers.iter().map(|h| {
                    let field = ident(&h.rust_name);
                    let ty = type_tokens(&h.ty);
                    let mut text = format!("The `{}` header.", h.wire_name);
                    if let Some(d) = &h.docs {
                        text = format!("{text} {}", d.trim());
                    }
                    let doc = docs(Some(&text));
                    quote! { #doc #field: Option<#ty>, }
                });
                let body = body.map(|b| {
                    quote! { /// The body.
                    body: #b, }
                });
                quote! { #doc #variant { #body #( #headers )* }, }
            }
        });
        out.extend(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #( #variants )*
            }
        });
    }
    out
}

fn is_multipart(body: &RequestBody) -> bool {
    body.media_type.starts_with("multipart/")
}

fn emit_methods(api: &Api, op: &Operation) -> TokenStream {
    let method = ident(&op.method_name);
    let op_static = format_ident!("{}", shouty(&op.method_name));
    let success = success_tokens(op);
    let error = error_tokens(api, op);
    let ret = quote! { Result<#success, #error> };

    // Inputs other than path parameters: a request struct, a JSON body, or nothing.
    let (input_param, input_arg) = match (&op.request_type, &op.body) {
        (Some(t), _) => {
            let t = ident(t);
            (Some(quote! { request: #t }), Some(quote! { request }))
        }
        (
            None,
            Some(RequestBody {
                kind: BodyKind::Json(ty),
                required,
                ..
            }),
        ) => {
            let ty = type_tokens(ty);
            let param = if *required {
                quote! { body: &#ty }
            } else {
                quote! { body: Option<&#ty> }
            };
            (Some(param), Some(quote! { body }))
        }
        _ => (None, None),
    };
    let path_params = op.path_params.iter().map(|p| {
        let name = ident(&p.rust_name);
        match &p.ty {
            TypeRef::String => quote! { #name: &str },
            TypeRef::Named(n) => {
                let n = ident(n);
                quote! { #name: &#n }
            }
            other => {
                let ty = type_tokens(other);
                quote! { #name: #ty }
            }
        }
    });
    let path_expr = path_expression(op);

    let mut doc_text = op.docs.clone().unwrap_or_default();
    if !doc_text.is_empty() {
        doc_text.push_str("\n\n");
    }
    doc_text.push_str(&format!("`{} {}`", op.http_method, op.path));
    let doc = docs(Some(&doc_text));
    let send = emit_send(op);

    if op.at_url {
        let at = format_ident!("{}_at", op.method_name);
        let send_fn = format_ident!("send_{}", op.method_name);
        let at_doc = format!(
            " Like [`Client::{}`], at an absolute URL the server gave (for example from a session's endpoints).",
            op.method_name
        );
        quote! {
            #doc
            pub async fn #method(&self, #( #path_params, )* #input_param) -> #ret {
                let url = self.runtime.endpoint(&operations::#op_static, #path_expr)?;
                self.#send_fn(url, #input_arg).await
            }

            #[doc = #at_doc]
            pub async fn #at(&self, url: &str, #input_param) -> #ret {
                let url = self.runtime.endpoint_at(&operations::#op_static, url)?;
                self.#send_fn(url, #input_arg).await
            }

            async fn #send_fn(&self, url: ::oas_runtime::Url, #input_param) -> #ret {
                #send
            }
        }
    } else {
        quote! {
            #doc
            pub async fn #method(&self, #( #path_params, )* #input_param) -> #ret {
                let url = self.runtime.endpoint(&operations::#op_static, #path_expr)?;
                #send
            }
        }
    }
}

/// The encoded path: the template with each parameter percent-encoded as one segment.
fn path_expression(op: &Operation) -> TokenStream {
    if op.path_params.is_empty() {
        let path = &op.path;
        return quote! { #path };
    }
    let mut format = String::new();
    let mut rest = op.path.as_str();
    let mut args = Vec::new();
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap_or(rest.len() - start);
        format.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        format.push_str("{}");
        let wire = &rest[start + 1..end];
        let param = op.path_params.iter().find(|p| p.wire_name == wire);
        let name = ident(param.map_or(wire, |p| p.rust_name.as_str()));
        args.push(match param.map(|p| &p.ty) {
            Some(TypeRef::String) => quote! { ::oas_runtime::path_segment(#wire, #name)? },
            _ => quote! { ::oas_runtime::path_segment(#wire, &#name.to_string())? },
        });
        rest = &rest[(end + 1).min(rest.len())..];
    }
    format.push_str(&rest.replace('{', "{{").replace('}', "}}"));
    let format = Literal::string(&format);
    quote! { &format!(#format, #( #args ),*) }
}

/// Builds the request, sends it, and decodes the outcome.
fn emit_send(op: &Operation) -> TokenStream {
    let op_static = format_ident!("{}", shouty(&op.method_name));
    let method = format_ident!("{}", op.http_method);
    let queries = op.query_params.iter().map(|p| {
        let wire = &p.wire_name;
        let field = ident(&p.rust_name);
        let add = |value: TokenStream| match &p.ty {
            _ if p.json => quote! { http.query_json(#wire, #value)?; },
            TypeRef::Vec(_) if p.explode => quote! {
                for item in #value { http.query(#wire, item); }
            },
            TypeRef::Vec(_) => quote! {
                http.query(#wire, #value.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
            },
            _ => quote! { http.query(#wire, #value); },
        };
        if p.required {
            add(quote! { &request.#field })
        } else {
            let inner = add(quote! { value });
            quote! { if let Some(value) = &request.#field { #inner } }
        }
    });
    let headers = op.header_params.iter().map(|p| {
        let wire = &p.wire_name;
        let field = ident(&p.rust_name);
        let is_string = p.ty == TypeRef::String;
        if p.required {
            let value = if is_string {
                quote! { &request.#field }
            } else {
                quote! { &request.#field.to_string() }
            };
            quote! { http.header(#wire, #value)?; }
        } else {
            let value = if is_string {
                quote! { value }
            } else {
                quote! { &value.to_string() }
            };
            quote! { if let Some(value) = &request.#field { http.header(#wire, #value)?; } }
        }
    });
    let body = op.body.as_ref().map(|body| {
        let media = &body.media_type;
        let source = if op.request_type.is_some() { quote! { request.body } } else { quote! { body } };
        match (&body.kind, body.required, op.request_type.is_some()) {
            // `json` sets `application/json`; another JSON media type replaces it.
            (BodyKind::Json(_), required, has_request) => {
                let media = (media != "application/json").then(|| quote! { http.header("content-type", #media)?; });
                match (required, has_request) {
                    (true, true) => quote! { http.json(&#source)?; #media },
                    (true, false) => quote! { http.json(#source)?; #media },
                    (false, true) => quote! { if let Some(body) = &#source { http.json(body)?; #media } },
                    (false, false) => quote! { if let Some(body) = #source { http.json(body)?; #media } },
                }
            }
            (BodyKind::Bytes, required, _) => {
                let set = if is_multipart(body) {
                    quote! { http.body(body, #media); http.header("content-type", &request.content_type)?; }
                } else {
                    quote! { http.body(body, #media); }
                };
                if required {
                    quote! { let body = #source; #set }
                } else {
                    quote! { if let Some(body) = #source { #set } }
                }
            }
        }
    });
    let arms = op.outcomes.iter().map(|outcome| {
        let status = Literal::u16_unsuffixed(outcome.status);
        let decode = match &outcome.body {
            OutcomeBody::Empty => None,
            OutcomeBody::Json(_) => Some(quote! { response.json()? }),
            OutcomeBody::Bytes => Some(quote! { response.body().clone() }),
        };
        let value = match &op.response_type {
            None => decode.unwrap_or_else(|| quote! { () }),
            Some(t) => {
                let t = ident(t);
                let variant = ident(&outcome.variant);
                if outcome.headers.is_empty() {
                    match decode {
                        Some(d) => quote! { #t::#variant(#d) },
                        None => quote! { #t::#variant },
                    }
                } else {
                    let body = decode.map(|d| quote! { body: #d, });
                    let headers = outcome.headers.iter().map(|h| {
                        let field = ident(&h.rust_name);
                        let wire = &h.wire_name;
                        quote! { #field: response.header(#wire)?, }
                    });
                    quote! { #t::#variant { #body #( #headers )* } }
                }
            }
        };
        quote! { #status => Ok(#value), }
    });
    let http_mut =
        (!op.query_params.is_empty() || !op.header_params.is_empty() || op.body.is_some())
            .then(|| quote! { mut });
    quote! {
        let #http_mut http = ::oas_runtime::Request::new(::oas_runtime::Method::#method, url);
        #( #queries )*
        #( #headers )*
        #body
        let response = self.runtime.execute(&operations::#op_static, http).await?;
        match response.status().as_u16() {
            #( #arms )*
            _ => Err(response.into_error()),
        }
    }
}

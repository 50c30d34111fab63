//! Emit: IR → token streams, one per output file. Reads only the IR.
//!
//! The emitted code names std items unqualified (the type namespace reserves them),
//! and everything else by absolute path: `::serde`, `::serde_json`, `::chrono` and
//! `::oas_runtime` must be dependencies of the crate that includes it.
//!
//! This module cuts the output into [`Unit`]s and holds what every emitter shares
//! (identifiers, type references); the rest is one module per concern:
//! - `docs`: doc comments from spec prose;
//! - `types`: the named types of `types.rs` (structs, open enums, unions, aliases);
//! - `client`: `client.rs`, its servers and operation statics, one method per operation;
//! - `operation_types`: each operation's request struct and response enum;
//! - `send`: a method's body: build the request, send it, decode the outcome.

mod client;
mod docs;
mod operation_types;
mod send;
mod types;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{Api, TypeDef, TypeRef};
use docs::module_docs;

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
            Piece::TypesHead => types::emit_types_head(),
            Piece::Types(defs) => defs.iter().map(|def| types::emit_type(def)).collect(),
            Piece::Client => client::emit_client(api),
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

/// `mod.rs`: the API's docs, and the `client` and `types` modules.
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
            // Nested lists and maps of a spec's schemas, spelled out rather than aliased.
            clippy::type_complexity,
            rustdoc::bare_urls,
            rustdoc::broken_intra_doc_links,
            rustdoc::invalid_html_tags,
        )]

        mod client;
        pub mod types;

        pub use client::*;
    }
}

/// Small hand-built operations for the emitters' tests, beside the passes' builders.
#[cfg(test)]
pub(crate) mod build {
    pub use crate::passes::build::*;

    use crate::ir::*;
    use proc_macro2::TokenStream;

    /// An operation with no inputs and one `200` outcome with a body of `Json`.
    pub fn operation(method_name: &str, http_method: &str, path: &str) -> Operation {
        Operation {
            id: method_name.into(),
            pointer: format!(
                "/paths/{}/{}",
                path.replace('/', "~1"),
                http_method.to_lowercase()
            ),
            method_name: method_name.into(),
            http_method: http_method.into(),
            path: path.into(),
            server: "API".into(),
            at_url: false,
            idempotent: http_method == "GET",
            auth: true,
            docs: None,
            path_params: Vec::new(),
            query_params: Vec::new(),
            header_params: Vec::new(),
            body: None,
            request_type: None,
            outcomes: vec![outcome(200, "Ok", OutcomeBody::Json(TypeRef::Json))],
            response_type: None,
            error: TypeRef::Json,
        }
    }

    /// A path, query or header parameter, neither exploded nor JSON.
    pub fn param(rust_name: &str, wire_name: &str, ty: TypeRef, required: bool) -> Param {
        Param {
            rust_name: rust_name.into(),
            wire_name: wire_name.into(),
            ty,
            required,
            explode: false,
            json: false,
            style: None,
            docs: None,
            pointer: format!("/parameters/{wire_name}"),
        }
    }

    /// An outcome without headers.
    pub fn outcome(status: u16, variant: &str, body: OutcomeBody) -> Outcome {
        Outcome {
            status: Status::Code(status),
            variant: variant.into(),
            body,
            headers: Vec::new(),
            docs: None,
        }
    }

    /// A multipart part whose wire name is its Rust name, without docs.
    pub fn part(rust_name: &str, required: bool, encoding: PartEncoding) -> Part {
        Part {
            rust_name: rust_name.into(),
            wire_name: rust_name.into(),
            required,
            docs: None,
            encoding,
        }
    }

    /// A response header of type `String`, without docs.
    pub fn response_header(rust_name: &str, wire_name: &str) -> ResponseHeader {
        ResponseHeader {
            rust_name: rust_name.into(),
            wire_name: wire_name.into(),
            ty: TypeRef::String,
            form: HeaderForm::Text,
            docs: None,
        }
    }

    /// Asserts that two token streams are the same tokens, however they are spaced
    /// (`quote!` joins `>>` where an emitter gives `> >`).
    #[track_caller]
    pub fn assert_tokens(actual: TokenStream, expected: TokenStream) {
        let squeeze =
            |tokens: TokenStream| -> String { tokens.to_string().split_whitespace().collect() };
        assert_eq!(squeeze(actual), squeeze(expected));
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn types_are_cut_into_units_that_make_up_each_file_in_order() {
        let types = (0..TYPES_PER_UNIT + 1)
            .map(|i| alias(&format!("T{i:03}"), TypeRef::String))
            .collect();
        let api = api(types);
        let units = units(&api);
        let files: Vec<&str> = units.iter().map(|u| u.file).collect();
        assert_eq!(
            files,
            ["mod.rs", "types.rs", "types.rs", "types.rs", "client.rs"]
        );
        let weights: Vec<usize> = units.iter().map(|u| u.weight(&api)).collect();
        assert_eq!(weights, [1, 1, TYPES_PER_UNIT, 1, 0]);

        let whole = emit(&api);
        let names: Vec<&str> = whole.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["mod.rs", "types.rs", "client.rs"]);
        let types_file: TokenStream = units[1..4].iter().map(|u| u.emit(&api)).collect();
        assert_tokens(whole[1].1.clone(), types_file);
    }

    #[test]
    fn type_references_name_std_unqualified_and_the_rest_by_absolute_path() {
        let ty = TypeRef::Map(Box::new(TypeRef::Vec(Box::new(TypeRef::Option(Box::new(
            TypeRef::DateTime,
        ))))));
        assert_tokens(
            type_tokens(&ty),
            quote! {
                ::std::collections::BTreeMap<String, Vec<Option<::chrono::DateTime<::chrono::FixedOffset>>>>
            },
        );
        assert_tokens(type_tokens(&build::named("File")), quote! { File });
    }
}

//! Naming: the Rust names of components, operations and the inline types they hold.
//!
//! Component schemas are named first, in sorted order, from their schema names, so a
//! component's Rust name does not depend on where it is first used. An inline type is
//! named from its context, the chain of places that hold it:
//!
//! | the type of                           | is named            |
//! |---------------------------------------|---------------------|
//! | property `p` of `Owner`               | `OwnerP`            |
//! | a list item / map value of `X`        | `XItem` / `XValue`  |
//! | alternative `i` (from 0) of union `U` | `UVariant{i+1}`     |
//! | parameter or response header `p`      | `OpP`               |
//! | the request body                      | `OpBody`            |
//! | the only success response's body      | `OpResponseBody`    |
//! | other response bodies                 | `Op{Status}Body`, `OpErrorBody` |
//! | request / response structs            | `OpRequest` / `OpResponse` |
//!
//! where `Op` is the method name in UpperCamelCase. Names share one namespace: the
//! first to claim a name gets it, later ones a numeric suffix.

use std::collections::BTreeSet;

use super::Lowerer;
use super::select::SelectedOperation;
use crate::config::Config;
use crate::error::Error;
use crate::ir::TypeRef;
use crate::naming::{Namespace, camel, snake};

impl Lowerer<'_> {
    /// Claims the names of `components` (in their sorted order).
    pub(super) fn name_components(&mut self, components: &BTreeSet<String>) {
        for name in components {
            let rust = self.names.claim(&camel(name));
            self.components.insert(name.clone(), rust);
        }
    }

    /// A component's Rust name, claimed on first use if it was not named up front.
    pub(super) fn component_rust_name(&mut self, name: &str) -> String {
        if let Some(rust) = self.components.get(name) {
            return rust.clone();
        }
        let rust = self.names.claim(&camel(name));
        self.components.insert(name.to_owned(), rust.clone());
        rust
    }

    /// Claims a type name from a context (see the module docs).
    pub(super) fn claim_type_name(&mut self, ctx: &str) -> String {
        self.names.claim(ctx)
    }
}

/// The selected operations with their method names, sorted by name: the config's name
/// for the operation, else its id in snake case (numbered when taken).
pub(super) fn name_operations<'a>(
    config: &Config,
    selected: Vec<SelectedOperation<'a>>,
) -> Result<Vec<(String, SelectedOperation<'a>)>, Error> {
    let mut named: Vec<(String, SelectedOperation<'a>)> = Vec::new();
    for op in selected {
        let base = match config.operations.get(&op.id) {
            Some(name) => {
                if snake(name) != *name {
                    return Err(Error::Config {
                        path: config.dir.join("codegen.toml"),
                        message: format!(
                            "method name {name:?} for operation {} is not a snake_case Rust identifier (try {:?})",
                            op.id,
                            snake(name)
                        ),
                    });
                }
                name.clone()
            }
            None => snake(&op.id),
        };
        named.push((base, op));
    }
    named.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.pointer.cmp(&b.1.pointer)));
    let mut method_names = Namespace::default();
    Ok(named
        .into_iter()
        .map(|(base, op)| (method_names.claim(&base), op))
        .collect())
}

/// `{Owner}{Name}`: a property of `owner`, or a parameter or header of operation `owner`.
pub(super) fn member_ctx(owner: &str, name: &str) -> String {
    format!("{owner}{}", camel(name))
}

/// `{ctx}Item`: the items of a list.
pub(super) fn item_ctx(ctx: &str) -> String {
    format!("{ctx}Item")
}

/// `{ctx}Value`: the values of a map (or of an object's `additionalProperties`).
pub(super) fn value_ctx(ctx: &str) -> String {
    format!("{ctx}Value")
}

/// `{union}Variant{n}`: the `index`th (from 0) alternative of a union.
pub(super) fn variant_ctx(union: &str, index: usize) -> String {
    format!("{union}Variant{}", index + 1)
}

/// `{ctx}Body`: a request or response body.
pub(super) fn body_ctx(ctx: &str) -> String {
    format!("{ctx}Body")
}

/// `{Op}Request`: the request struct of an operation.
pub(super) fn request_ctx(op: &str) -> String {
    format!("{op}Request")
}

/// `{Op}Response`: the response enum of an operation.
pub(super) fn response_ctx(op: &str) -> String {
    format!("{op}Response")
}

/// What a response is called, before `Body`: `{Op}Response` when it is the only
/// success, else `{Op}{Status}`, or `{Op}Error` for a status range or the default.
pub(super) fn outcome_ctx(op: &str, status: Option<u16>, only_success: bool) -> String {
    if only_success {
        return response_ctx(op);
    }
    format!(
        "{op}{}",
        status.map(status_variant).unwrap_or_else(|| "Error".into())
    )
}

/// A variant name for a status: its reason phrase in UpperCamelCase.
pub(super) fn status_variant(status: u16) -> String {
    let name = match status {
        100 => "Continue",
        101 => "SwitchingProtocols",
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        other => return format!("Status{other}"),
    };
    name.to_owned()
}

/// The variant name of a union alternative that is not a named type.
pub(super) fn primitive_variant_name(ty: &TypeRef) -> &'static str {
    match ty {
        TypeRef::Named(_) => "Named",
        TypeRef::String => "String",
        TypeRef::Bool => "Bool",
        TypeRef::I32 | TypeRef::I64 => "Integer",
        TypeRef::F64 => "Number",
        TypeRef::DateTime => "DateTime",
        TypeRef::Date => "Date",
        TypeRef::Json => "Value",
        TypeRef::JsonObject => "Object",
        TypeRef::Vec(_) => "List",
        TypeRef::Map(_) => "Map",
        TypeRef::Option(_) => "Nullable",
    }
}

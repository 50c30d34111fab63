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
use crate::ir::{Status, TypeRef};
use crate::naming::{Namespace, camel, snake};

impl Lowerer<'_> {
    /// Claims the names the config gives component schemas (`[types]`), then those of
    /// `components` (in their sorted order). The configured names go first so that no
    /// default name can take one of them.
    pub(super) fn name_components(&mut self, components: &BTreeSet<String>) -> Result<(), Error> {
        for (schema, rust) in &self.config.types {
            let in_spec = self
                .openapi
                .components
                .as_ref()
                .is_some_and(|c| c.schemas.contains_key(schema));
            if !in_spec {
                continue;
            }
            let problem = if camel(rust) != *rust {
                Some(format!(
                    "is not an UpperCamelCase Rust identifier (try {:?})",
                    camel(rust)
                ))
            } else if self.names.contains(rust) {
                Some(
                    "is taken (by another [types] entry, or by a name the generated code uses)"
                        .into(),
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Error::Config {
                    path: self.config.dir.join("codegen.toml"),
                    message: format!(
                        "[types]: the type name {rust:?} for schema {schema:?} {problem}"
                    ),
                });
            }
            let rust = self.names.claim(rust);
            self.components.insert(schema.clone(), rust);
        }
        for name in components {
            if !self.components.contains_key(name) {
                let rust = self.names.claim(&camel(name));
                self.components.insert(name.clone(), rust);
            }
        }
        Ok(())
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
/// success, else `{Op}{Status}`, or `{Op}Error` for an error range or the default.
pub(super) fn outcome_ctx(op: &str, status: Option<Status>, only_success: bool) -> String {
    if only_success {
        return response_ctx(op);
    }
    format!(
        "{op}{}",
        status.map(status_variant).unwrap_or_else(|| "Error".into())
    )
}

/// A variant name for a status: its reason phrase in UpperCamelCase, or its class's.
pub(super) fn status_variant(status: Status) -> String {
    let status = match status {
        Status::Code(code) => code,
        Status::Range(1) => return "Informational".into(),
        Status::Range(2) => return "Success".into(),
        Status::Range(3) => return "Redirection".into(),
        Status::Range(class) => return format!("Status{class}XX"),
    };
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{config, spec};
    use super::*;

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /b:
    get: {operationId: GetThing, responses: {"200": {description: ok}}}
  /a:
    get: {operationId: get_thing, responses: {"200": {description: ok}}}
    post: {operationId: createA, responses: {"200": {description: ok}}}
"#;

    fn method_names(toml: &str) -> Result<Vec<(String, String)>, String> {
        let (spec, config) = (spec(SPEC), config(toml));
        let selected = Lowerer::new(&spec, &config).select_operations().unwrap();
        match name_operations(&config, selected) {
            Ok(named) => Ok(named.into_iter().map(|(name, op)| (name, op.id)).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn method_names_are_sorted_and_a_clash_is_numbered_in_pointer_order() {
        // Both ids give `get_thing`; `/paths/~1a/get` sorts before `/paths/~1b/get`.
        assert_eq!(
            method_names("[select]\nall = true").unwrap(),
            pairs(&[
                ("create_a", "createA"),
                ("get_thing", "get_thing"),
                ("get_thing2", "GetThing"),
            ])
        );
    }

    #[test]
    fn the_config_renames_methods_but_only_to_snake_case() {
        let renamed = "[select]\nall = true\n[operations]\nGetThing = \"fetch_b\"";
        assert_eq!(
            method_names(renamed).unwrap(),
            pairs(&[
                ("create_a", "createA"),
                ("fetch_b", "GetThing"),
                ("get_thing", "get_thing"),
            ])
        );
        let bad = "[select]\nall = true\n[operations]\nGetThing = \"FetchB\"";
        let error = method_names(bad).unwrap_err();
        assert!(
            error.contains("\"FetchB\" for operation GetThing is not a snake_case"),
            "{error}"
        );
    }

    #[test]
    fn components_keep_their_sorted_names_whatever_claims_next() {
        let (spec, config) = (spec(SPEC), config(""));
        let mut lowerer = Lowerer::new(&spec, &config);
        let components: BTreeSet<String> = ["b_thing", "BThing", "Result"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        lowerer.name_components(&components).unwrap();
        assert_eq!(lowerer.claim_type_name("BThing"), "BThing3");
        assert_eq!(lowerer.component_rust_name("BThing"), "BThing");
        assert_eq!(lowerer.component_rust_name("b_thing"), "BThing2");
        // `Result` is a name the emitted code uses itself.
        assert_eq!(lowerer.component_rust_name("Result"), "ResultModel");
        assert_eq!(lowerer.component_rust_name("Later"), "Later");
    }

    /// The names `name_components` gives the three schemas of a small spec under `toml`.
    fn type_names(toml: &str) -> Result<Vec<(String, String)>, String> {
        let spec = spec(
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents:\n  \
             schemas:\n    AccessToken: {type: object}\n    Access_Token: {type: object}\n    \
             Grant: {type: object}\n",
        );
        let config = config(toml);
        let mut lowerer = Lowerer::new(&spec, &config);
        let components: BTreeSet<String> = ["AccessToken", "Access_Token", "Grant"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        lowerer
            .name_components(&components)
            .map_err(|e| e.to_string())?;
        Ok(lowerer.components.into_iter().collect())
    }

    #[test]
    fn the_config_renames_component_types_before_any_default_name_is_claimed() {
        // `Grant` would sort after `Access_Token`, whose default name is the one
        // `AccessToken` is renamed away from; the configured name still wins its own.
        let renamed =
            "[types]\nAccessToken = \"TokenGrant\"\nGrant = \"AccessToken\"\nMissing = \"X\"";
        assert_eq!(
            type_names(renamed).unwrap(),
            pairs(&[
                ("AccessToken", "TokenGrant"),
                ("Access_Token", "AccessToken2"),
                ("Grant", "AccessToken"),
            ])
        );
        assert_eq!(
            type_names("").unwrap(),
            pairs(&[
                ("AccessToken", "AccessToken"),
                ("Access_Token", "AccessToken2"),
                ("Grant", "Grant"),
            ])
        );
    }

    #[test]
    fn a_configured_type_name_must_be_camel_case_and_free() {
        for (toml, expected) in [
            (
                "[types]\nGrant = \"token_grant\"",
                "\"token_grant\" for schema \"Grant\" is not an UpperCamelCase Rust identifier (try \"TokenGrant\")",
            ),
            (
                "[types]\nGrant = \"Result\"",
                "\"Result\" for schema \"Grant\" is taken",
            ),
            (
                "[types]\nAccessToken = \"Same\"\nGrant = \"Same\"",
                "\"Same\" for schema \"Grant\" is taken",
            ),
        ] {
            let error = type_names(toml).unwrap_err();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains("codegen.toml"), "{error}");
        }
    }

    #[test]
    fn response_bodies_are_named_by_how_many_successes_there_are() {
        assert_eq!(
            outcome_ctx("Get", Some(Status::Code(200)), true),
            "GetResponse"
        );
        assert_eq!(
            outcome_ctx("Get", Some(Status::Code(201)), false),
            "GetCreated"
        );
        assert_eq!(
            outcome_ctx("Get", Some(Status::Code(404)), false),
            "GetStatus404"
        );
        assert_eq!(
            outcome_ctx("Get", Some(Status::Range(2)), false),
            "GetSuccess"
        );
        assert_eq!(outcome_ctx("Get", None, false), "GetError");
    }
}

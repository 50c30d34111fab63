//! Lower: `openapiv3` → IR. The only module that reads `openapiv3` types.
//!
//! It selects the operations the config asks for, walks the `$ref` closure of their
//! schemas, names every type (components first, in sorted order, then inline types
//! from their context), merges `allOf`, and picks Rust types for formats. Anything it
//! cannot express is an error naming the construct's JSON pointer, never a silent drop.
//!
//! One `Lowerer` walks the spec; its methods are spread over a file per concern:
//!
//! - `select`: which operations, and which component schemas they reach;
//! - `names`: Rust names of components, operations and inline types;
//! - `types`: what a schema becomes (direct type, enum, union, struct) at a use site;
//! - `merge`: the fields of an object and its `allOf` parts, merged into one struct;
//! - `operations`: parameters and servers of an operation;
//! - `bodies`: its request body (JSON, form, multipart parts, bytes);
//! - `responses`: its outcomes, response headers and error body.
//!
//! What needs every type at once is left to the IR [`passes`](crate::passes).

mod bodies;
mod merge;
mod names;
mod operations;
mod responses;
mod select;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use openapiv3::{OpenAPI, ReferenceOr, Schema};

use crate::config::Config;
use crate::error::{Error, Warning};
use crate::ir::*;
use crate::load::{LoadedSpec, escape_pointer};
use crate::naming::Namespace;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Lowers a loaded spec into the IR, keeping the operations `config` selects; the
/// warnings are dropped (see [`lower_with_warnings`]).
pub fn lower(spec: &LoadedSpec, config: &Config) -> Result<Api, Error> {
    lower_with_warnings(spec, config).map(|(api, _)| api)
}

/// Lowers a loaded spec into the IR, with the defects of the spec it read in a
/// documented way (sorted, each once).
pub fn lower_with_warnings(
    spec: &LoadedSpec,
    config: &Config,
) -> Result<(Api, Vec<Warning>), Error> {
    let mut lowerer = Lowerer::new(spec, config);
    let selected = lowerer.select_operations()?;

    // Name the component schemas of the closure first, in sorted order, so that a
    // schema's Rust name does not depend on where it is first used.
    let closure = select::component_closure(spec, config, &selected);
    lowerer.name_components(&closure)?;
    for name in &closure {
        lowerer.ensure_component(name, "")?;
    }

    let mut operations = Vec::new();
    for (method_name, op) in names::name_operations(config, selected)? {
        operations.push(lowerer.lower_operation(&op, method_name)?);
    }

    let default_error = responses::most_common_error(&operations);
    let mut api = Api {
        title: spec.openapi.info.title.clone(),
        version: spec.openapi.info.version.clone(),
        docs: spec.openapi.info.description.clone(),
        servers: std::mem::take(&mut lowerer.servers),
        trusted_hosts: {
            let mut hosts = config.trusted_hosts.clone();
            hosts.sort();
            hosts.dedup();
            hosts
        },
        operations,
        types: std::mem::take(&mut lowerer.types),
        default_error,
        keep_unknown_fields: config.keep_unknown_fields,
    };
    // What needs every type at once (discriminators, boxes, defaults) is settled on the IR.
    crate::passes::run(&mut api);
    let warnings = lowerer.warnings.into_iter().collect();
    Ok((api, warnings))
}

/// A lowered schema at a use site.
#[derive(Debug, Clone)]
struct Lowered {
    ty: TypeRef,
    nullable: bool,
}

impl Lowered {
    /// The type of a list item or map value: a nullable one may be `null` there.
    fn into_element(self) -> TypeRef {
        if self.nullable {
            TypeRef::Option(Box::new(self.ty))
        } else {
            self.ty
        }
    }
}

/// A schema reference: `$ref` or an inline schema.
#[derive(Clone, Copy)]
enum SchemaRef<'a> {
    Ref(&'a str),
    Item(&'a Schema),
}

impl<'a> From<&'a ReferenceOr<Schema>> for SchemaRef<'a> {
    fn from(r: &'a ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(s) => SchemaRef::Item(s),
        }
    }
}

impl<'a> From<&'a ReferenceOr<Box<Schema>>> for SchemaRef<'a> {
    fn from(r: &'a ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(s) => SchemaRef::Item(s),
        }
    }
}

/// The state of one lowering: the spec it reads and the types and servers found so far.
struct Lowerer<'a> {
    path: PathBuf,
    openapi: &'a OpenAPI,
    /// The document as JSON, for what openapiv3 does not keep (whether a default was
    /// stated).
    json: &'a serde_json::Value,
    config: &'a Config,
    types: BTreeMap<String, TypeDef>,
    names: Namespace,
    /// Component schema name → Rust type name.
    components: BTreeMap<String, String>,
    /// Components already defined (or being defined).
    defined: BTreeSet<String>,
    /// Inline schemas already lowered, by JSON pointer: a property inherited through
    /// `allOf` reuses its owner's type instead of getting a copy.
    memo: BTreeMap<String, Lowered>,
    servers: BTreeMap<String, Server>,
    /// Defects read in a documented way, each once.
    warnings: BTreeSet<Warning>,
}

impl<'a> Lowerer<'a> {
    fn new(spec: &'a LoadedSpec, config: &'a Config) -> Self {
        Lowerer {
            path: spec.path.clone(),
            openapi: &spec.openapi,
            json: &spec.json,
            types: BTreeMap::new(),
            names: Namespace::for_types(),
            components: BTreeMap::new(),
            defined: BTreeSet::new(),
            memo: BTreeMap::new(),
            servers: BTreeMap::new(),
            warnings: BTreeSet::new(),
            config,
        }
    }

    /// A construct the generator cannot express, at `pointer`.
    fn construct(&self, pointer: &str, what: impl Into<String>) -> Error {
        Error::Construct {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            what: what.into(),
        }
    }

    /// A spec that breaks a rule of OpenAPI (or of sense), at `pointer`.
    fn invalid(&self, pointer: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    /// The JSON value at `pointer` in the document, if there is one.
    fn json_at(&self, pointer: &str) -> Option<&'a serde_json::Value> {
        self.json.pointer(pointer)
    }

    /// Records a defect of the spec that has a faithful reading, said in `message`.
    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.insert(Warning {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    /// A defect of the spec (`error`, which breaks OpenAPI) that has a faithful
    /// `reading`: in lenient mode a warning, and `Ok` so the caller takes that
    /// reading; else the error.
    fn defect(&mut self, error: Error, reading: &str) -> Result<(), Error> {
        let (pointer, what) = match &error {
            _ if !self.config.lenient => return Err(error),
            Error::Invalid {
                pointer, message, ..
            } => (pointer.clone(), message.clone()),
            Error::DanglingRef {
                pointer, reference, ..
            } => (pointer.clone(), format!("dangling $ref {reference:?}")),
            _ => return Err(error),
        };
        self.warn(&pointer, format!("{what}; read as {reading}"));
        Ok(())
    }

    /// Resolves `#/components/schemas/NAME`.
    fn resolve(&self, reference: &str, pointer: &str) -> Result<(String, &'a Schema), Error> {
        self.resolve_within(reference, pointer, 32)
    }

    /// [`resolve`](Self::resolve), through at most `hops` more aliases (so a cycle of
    /// aliases is an error, not a stack overflow).
    fn resolve_within(
        &self,
        reference: &str,
        pointer: &str,
        hops: u32,
    ) -> Result<(String, &'a Schema), Error> {
        let dangling = || Error::DanglingRef {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            reference: reference.to_owned(),
        };
        let name = reference.strip_prefix(SCHEMA_PREFIX).ok_or_else(|| {
            if reference.starts_with('#') {
                dangling()
            } else {
                self.construct(
                    pointer,
                    format!("an external $ref {reference:?} (only local refs are read)"),
                )
            }
        })?;
        let name = name.replace("~1", "/").replace("~0", "~");
        let schema = self
            .openapi
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(&name))
            .ok_or_else(dangling)?;
        match schema {
            ReferenceOr::Item(schema) => Ok((name, schema)),
            ReferenceOr::Reference { reference: next } => {
                let next_pointer = format!("/components/schemas/{}", escape_pointer(&name));
                if hops == 0 {
                    return Err(self.invalid(
                        &next_pointer,
                        "a cycle (or a chain of over 32) of schema $refs",
                    ));
                }
                // An alias of another component: resolve through it.
                self.resolve_within(next, &next_pointer, hops - 1)
            }
        }
    }

    /// Resolves a `$ref` to `#/components/<section>/<name>`, following chains of refs
    /// (a cycle, or one longer than 32 links, is an error), or returns the item itself.
    fn resolve_component<T>(
        &self,
        item: &'a ReferenceOr<T>,
        section: &str,
        entries: fn(&'a openapiv3::Components) -> &'a IndexMap<String, ReferenceOr<T>>,
        pointer: &str,
    ) -> Result<&'a T, Error> {
        let mut current = item;
        for _ in 0..32 {
            let reference = match current {
                ReferenceOr::Item(item) => return Ok(item),
                ReferenceOr::Reference { reference } => reference,
            };
            let target = reference
                .strip_prefix("#/components/")
                .and_then(|rest| rest.strip_prefix(section))
                .and_then(|rest| rest.strip_prefix('/'))
                .map(|name| name.replace("~1", "/").replace("~0", "~"))
                .and_then(|name| entries(self.openapi.components.as_ref()?).get(&name));
            current = target.ok_or_else(|| Error::DanglingRef {
                path: self.path.clone(),
                pointer: pointer.to_owned(),
                reference: reference.clone(),
            })?;
        }
        Err(self.invalid(
            pointer,
            format!("a cycle (or a chain of over 32) of $refs among components/{section}"),
        ))
    }
}

/// Helpers for the unit tests of lowering: small specs written inline.
#[cfg(test)]
mod test_support {
    use std::path::Path;

    use crate::config::Config;
    use crate::load::{LoadedSpec, parse_document};

    /// A spec from YAML text (the overlays and version check of `load` left out).
    pub fn spec(yaml: &str) -> LoadedSpec {
        let path = Path::new("test.yaml");
        let json = parse_document(path, yaml).unwrap();
        let openapi = serde_json::from_value(json.clone()).unwrap();
        LoadedSpec {
            path: path.to_owned(),
            json,
            openapi,
        }
    }

    /// A config from TOML text.
    pub fn config(toml: &str) -> Config {
        Config::parse(toml).unwrap()
    }
}

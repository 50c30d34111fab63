//! Lower: `openapiv3` → IR. The only module that reads `openapiv3` types.
//!
//! It selects the operations the config asks for, walks the `$ref` closure of their
//! schemas, names every type (components first, in sorted order, then inline types
//! from their context), merges `allOf`, and picks Rust types for formats. Anything it
//! cannot express is an error naming the construct's JSON pointer, never a silent drop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, OpenAPI, Parameter, ParameterSchemaOrContent, QueryStyle, ReferenceOr,
    Schema, SchemaKind, StatusCode, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::ir::*;
use crate::load::{LoadedSpec, escape_pointer};
use crate::naming::{Namespace, camel, shouty, snake};

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Lowers a loaded spec into the IR, keeping the operations `config` selects.
pub fn lower(spec: &LoadedSpec, config: &Config) -> Result<Api, Error> {
    let mut lowerer = Lowerer {
        path: spec.path.clone(),
        openapi: &spec.openapi,
        types: BTreeMap::new(),
        names: Namespace::for_types(),
        components: BTreeMap::new(),
        defined: BTreeSet::new(),
        memo: BTreeMap::new(),
        servers: BTreeMap::new(),
        config,
    };
    let selected = lowerer.select_operations()?;

    // Name the component schemas of the closure first, in sorted order, so that a
    // schema's Rust name does not depend on where it is first used.
    let closure = if config.select.all {
        spec.openapi
            .components
            .as_ref()
            .map(|c| c.schemas.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        schema_closure(&spec.json, &selected)
    };
    for name in &closure {
        let rust = lowerer.names.claim(&camel(name));
        lowerer.components.insert(name.clone(), rust);
    }
    for name in &closure {
        lowerer.ensure_component(name, "")?;
    }

    let mut method_names = Namespace::default();
    let mut operations = Vec::new();
    let mut named: Vec<(String, SelectedOperation<'_>)> = Vec::new();
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
    for (base, op) in named {
        let method_name = method_names.claim(&base);
        operations.push(lowerer.lower_operation(&op, method_name)?);
    }

    let default_error = most_common_error(&operations);
    let mut api = Api {
        title: spec.openapi.info.title.clone(),
        version: spec.openapi.info.version.clone(),
        docs: spec.openapi.info.description.clone(),
        servers: lowerer.servers,
        trusted_hosts: {
            let mut hosts = config.trusted_hosts.clone();
            hosts.sort();
            hosts.dedup();
            hosts
        },
        operations,
        types: lowerer.types,
        default_error,
    };
    // What needs every type at once (discriminators, boxes, defaults) is settled on the IR.
    crate::passes::run(&mut api);
    Ok(api)
}

/// An operation the config selected, with what lowering needs from its path item.
struct SelectedOperation<'a> {
    id: String,
    method: String,
    path: String,
    pointer: String,
    operation: &'a openapiv3::Operation,
    path_params: &'a [ReferenceOr<Parameter>],
    path_servers: &'a [openapiv3::Server],
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

/// What a schema becomes.
enum Shape<'a> {
    /// A direct type (primitive, list, map, any).
    Direct,
    /// A struct (properties, or several `allOf` parts).
    Struct,
    /// An open string enum.
    Enum(Vec<String>),
    /// `oneOf` / `anyOf`.
    Union(&'a [ReferenceOr<Schema>]),
    /// `allOf` with one structural member and annotations: the member's type.
    Single(SchemaRef<'a>),
}

struct Lowerer<'a> {
    path: PathBuf,
    openapi: &'a OpenAPI,
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
}

impl<'a> Lowerer<'a> {
    fn construct(&self, pointer: &str, what: impl Into<String>) -> Error {
        Error::Construct {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            what: what.into(),
        }
    }

    fn invalid(&self, pointer: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            path: self.path.clone(),
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }

    // ----- selection -------------------------------------------------------------

    fn select_operations(&self) -> Result<Vec<SelectedOperation<'a>>, Error> {
        let mut selected = Vec::new();
        let mut seen_ids = BTreeSet::new();
        let openapi: &'a OpenAPI = self.openapi;
        for (path, item) in &openapi.paths.paths {
            let item_pointer = format!("/paths/{}", escape_pointer(path));
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { .. } => {
                    return Err(self.construct(&item_pointer, "a path item given by $ref"));
                }
            };
            let operations = [
                ("get", &item.get),
                ("put", &item.put),
                ("post", &item.post),
                ("delete", &item.delete),
                ("options", &item.options),
                ("head", &item.head),
                ("patch", &item.patch),
                ("trace", &item.trace),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let pointer = format!("{item_pointer}/{method}");
                let id = operation
                    .operation_id
                    .clone()
                    .unwrap_or_else(|| format!("{method}_{}", snake(path)));
                if !seen_ids.insert(id.clone()) {
                    return Err(self.invalid(&pointer, format!("operationId {id:?} is used twice")));
                }
                if self.config.selects(&id, &operation.tags) {
                    selected.push(SelectedOperation {
                        id,
                        method: method.to_owned(),
                        path: path.clone(),
                        pointer,
                        operation,
                        path_params: &item.parameters,
                        path_servers: &item.servers,
                    });
                }
            }
        }
        let config_path = self.config.dir.join("codegen.toml");
        for id in self
            .config
            .select
            .operations
            .iter()
            .chain(self.config.operations.keys())
        {
            if !seen_ids.contains(id) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "names operation {id:?}, which {} does not have",
                        self.path.display()
                    ),
                });
            }
            if !selected.iter().any(|op| &op.id == id) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "names operation {id:?} but its selection does not include it"
                    ),
                });
            }
        }
        for tag in &self.config.select.tags {
            if !self.openapi.paths.paths.values().any(|item| match item {
                ReferenceOr::Item(item) => item.iter().any(|(_, op)| op.tags.contains(tag)),
                ReferenceOr::Reference { .. } => false,
            }) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "selects tag {tag:?}, which no operation of {} has",
                        self.path.display()
                    ),
                });
            }
        }
        if selected.is_empty() {
            return Err(Error::Config {
                path: config_path,
                message: "selects no operation".into(),
            });
        }
        Ok(selected)
    }

    // ----- schemas ---------------------------------------------------------------

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

    fn component_rust_name(&mut self, name: &str) -> String {
        if let Some(rust) = self.components.get(name) {
            return rust.clone();
        }
        let rust = self.names.claim(&camel(name));
        self.components.insert(name.to_owned(), rust.clone());
        rust
    }

    /// Defines a component schema's type (once).
    fn ensure_component(&mut self, name: &str, from: &str) -> Result<String, Error> {
        let rust = self.component_rust_name(name);
        if !self.defined.insert(name.to_owned()) {
            return Ok(rust);
        }
        let pointer = format!("/components/schemas/{}", escape_pointer(name));
        let schema = match self
            .openapi
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(name))
        {
            Some(ReferenceOr::Item(schema)) => schema,
            Some(ReferenceOr::Reference { reference }) => {
                let (target, _) = self.resolve(reference, &pointer)?;
                let target_rust = self.ensure_component(&target, &pointer)?;
                self.types.insert(
                    rust.clone(),
                    TypeDef {
                        name: rust.clone(),
                        docs: None,
                        kind: TypeKind::Alias(TypeRef::Named(target_rust)),
                    },
                );
                return Ok(rust);
            }
            None => {
                return Err(Error::DanglingRef {
                    path: self.path.clone(),
                    pointer: from.to_owned(),
                    reference: format!("{SCHEMA_PREFIX}{name}"),
                });
            }
        };
        self.define(rust.clone(), schema, &pointer, true)?;
        Ok(rust)
    }

    /// Defines a named type for `schema`. For a component (`component`), a schema that
    /// is only a direct type becomes an alias; an `allOf` over other components becomes
    /// its own flattened struct.
    fn define(
        &mut self,
        name: String,
        schema: &'a Schema,
        pointer: &str,
        component: bool,
    ) -> Result<(), Error> {
        let docs = schema.schema_data.description.clone();
        let kind = self.kind(&name, schema, pointer, component)?;
        self.types
            .insert(name.clone(), TypeDef { name, docs, kind });
        Ok(())
    }

    /// What the named type `name` is. A component that is an `allOf` of one structural
    /// member (and annotations) is that member: defined in its place when inline, an
    /// alias of it when a `$ref`.
    fn kind(
        &mut self,
        name: &str,
        schema: &'a Schema,
        pointer: &str,
        component: bool,
    ) -> Result<TypeKind, Error> {
        Ok(match self.shape(schema, pointer, component)? {
            Shape::Struct => self.struct_kind(name, schema, pointer)?,
            Shape::Enum(values) => enum_kind(&values),
            Shape::Union(members) => self.union_kind(name, schema, members, pointer)?,
            Shape::Direct => TypeKind::Alias(self.direct_type(schema, name, pointer)?.ty),
            Shape::Single(member) => {
                let member_pointer = format!("{pointer}/{}", single_member_key(schema, member));
                match member {
                    SchemaRef::Item(inner) => self.kind(name, inner, &member_pointer, component)?,
                    SchemaRef::Ref(_) => {
                        TypeKind::Alias(self.type_of(member, name, &member_pointer)?.ty)
                    }
                }
            }
        })
    }

    /// Decides what a schema becomes.
    fn shape(
        &self,
        schema: &'a Schema,
        pointer: &str,
        component: bool,
    ) -> Result<Shape<'a>, Error> {
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                let values: Vec<String> = s.enumeration.iter().flatten().cloned().collect();
                if values.is_empty() {
                    Shape::Direct
                } else {
                    Shape::Enum(values)
                }
            }
            SchemaKind::Type(Type::Object(o)) => {
                if o.properties.is_empty() {
                    Shape::Direct
                } else {
                    Shape::Struct
                }
            }
            SchemaKind::Type(_) => Shape::Direct,
            SchemaKind::OneOf { one_of } => union_or_single(one_of),
            SchemaKind::AnyOf { any_of } => union_or_single(any_of),
            SchemaKind::AllOf { all_of } => {
                let structural: Vec<&ReferenceOr<Schema>> =
                    all_of.iter().filter(|m| !is_annotation(m)).collect();
                match structural.as_slice() {
                    [] => Shape::Direct,
                    [only] if !(component && is_object_ref(self, only)) => {
                        Shape::Single((*only).into())
                    }
                    _ => Shape::Struct,
                }
            }
            SchemaKind::Not { .. } => {
                return Err(self.construct(pointer, "`not` (a negated schema)"));
            }
            SchemaKind::Any(a) => {
                if a.not.is_some() {
                    return Err(self.construct(pointer, "`not` (a negated schema)"));
                }
                let has_object_parts = !a.properties.is_empty() || !a.all_of.is_empty();
                let unions = if !a.one_of.is_empty() {
                    Some(&a.one_of)
                } else if !a.any_of.is_empty() {
                    Some(&a.any_of)
                } else {
                    None
                };
                match (unions, has_object_parts) {
                    (Some(_), true) => {
                        return Err(self.construct(
                            pointer,
                            "an object that has both properties (or allOf) and oneOf/anyOf",
                        ));
                    }
                    (Some(members), false) => union_or_single(members),
                    (None, true) => {
                        let structural: Vec<&ReferenceOr<Schema>> =
                            a.all_of.iter().filter(|m| !is_annotation(m)).collect();
                        match (a.properties.is_empty(), structural.as_slice()) {
                            (true, []) => Shape::Direct,
                            (true, [only]) if !(component && is_object_ref(self, only)) => {
                                Shape::Single((*only).into())
                            }
                            _ => Shape::Struct,
                        }
                    }
                    (None, false) => {
                        if a.typ.as_deref() == Some("string") {
                            // A value a string cannot hold would be dropped from the
                            // enum; `null` is the nullable's (it becomes `Option`).
                            let wrong = a
                                .enumeration
                                .iter()
                                .enumerate()
                                .find(|(_, v)| !(v.is_string() || v.is_null()));
                            if let Some((i, value)) = wrong {
                                return Err(self.invalid(
                                    &format!("{pointer}/enum/{i}"),
                                    format!("enum value {value} is not a string, but the schema's type is string"),
                                ));
                            }
                        }
                        let values: Vec<String> = a
                            .enumeration
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect();
                        if a.typ.as_deref() == Some("string") && !values.is_empty() {
                            Shape::Enum(values)
                        } else {
                            Shape::Direct
                        }
                    }
                }
            }
        })
    }

    /// The type of a schema at a use site; `ctx` names an inline type if one is needed.
    fn type_of(
        &mut self,
        schema: SchemaRef<'a>,
        ctx: &str,
        pointer: &str,
    ) -> Result<Lowered, Error> {
        match schema {
            SchemaRef::Ref(reference) => {
                let (name, target) = self.resolve(reference, pointer)?;
                let rust = self.ensure_component(&name, pointer)?;
                Ok(Lowered {
                    ty: TypeRef::Named(rust),
                    nullable: target.schema_data.nullable,
                })
            }
            SchemaRef::Item(schema) => {
                if let Some(done) = self.memo.get(pointer) {
                    return Ok(done.clone());
                }
                let lowered = self.inline_type(schema, ctx, pointer)?;
                self.memo.insert(pointer.to_owned(), lowered.clone());
                Ok(lowered)
            }
        }
    }

    fn inline_type(
        &mut self,
        schema: &'a Schema,
        ctx: &str,
        pointer: &str,
    ) -> Result<Lowered, Error> {
        let nullable = schema.schema_data.nullable || annotations_nullable(schema);
        let ty = match self.shape(schema, pointer, false)? {
            Shape::Direct => return self.direct_type(schema, ctx, pointer),
            Shape::Single(member) => {
                let member_pointer = format!("{pointer}/{}", single_member_key(schema, member));
                let inner = self.type_of(member, ctx, &member_pointer)?;
                return Ok(Lowered {
                    ty: inner.ty,
                    nullable: nullable || inner.nullable,
                });
            }
            Shape::Struct | Shape::Enum(_) | Shape::Union(_) => {
                let name = self.names.claim(ctx);
                // Known by its name before it is defined: an inline object that inherits
                // (by allOf) the component holding it meets itself again while being
                // defined, and must refer to itself rather than recurse forever.
                let named = Lowered {
                    ty: TypeRef::Named(name.clone()),
                    nullable,
                };
                self.memo.insert(pointer.to_owned(), named);
                self.define(name.clone(), schema, pointer, false)?;
                TypeRef::Named(name)
            }
        };
        Ok(Lowered { ty, nullable })
    }

    /// A type that needs no definition of its own: primitives, lists, maps, any.
    fn direct_type(
        &mut self,
        schema: &'a Schema,
        ctx: &str,
        pointer: &str,
    ) -> Result<Lowered, Error> {
        let nullable = schema.schema_data.nullable || annotations_nullable(schema);
        let ty = match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => string_type(&s.format),
            SchemaKind::Type(Type::Integer(i)) => integer_type(&i.format),
            SchemaKind::Type(Type::Number(_)) => TypeRef::F64,
            SchemaKind::Type(Type::Boolean(_)) => TypeRef::Bool,
            SchemaKind::Type(Type::Object(o)) => {
                self.map_type(o.additional_properties.as_ref(), ctx, pointer)?
            }
            SchemaKind::Type(Type::Array(a)) => self.list_type(a.items.as_ref(), ctx, pointer)?,
            SchemaKind::AllOf { all_of } => {
                debug_assert!(all_of.iter().all(is_annotation));
                TypeRef::Json
            }
            SchemaKind::Any(a) => match a.typ.as_deref() {
                Some("string") => match a.format.as_deref() {
                    Some("date-time") => TypeRef::DateTime,
                    Some("date") => TypeRef::Date,
                    _ => TypeRef::String,
                },
                Some("integer") => match a.format.as_deref() {
                    Some("int32") => TypeRef::I32,
                    _ => TypeRef::I64,
                },
                Some("number") => TypeRef::F64,
                Some("boolean") => TypeRef::Bool,
                Some("array") => self.list_type(a.items.as_ref(), ctx, pointer)?,
                Some("object") => self.map_type(a.additional_properties.as_ref(), ctx, pointer)?,
                Some(other) => {
                    return Err(self.invalid(
                        &format!("{pointer}/type"),
                        format!("unknown type {other:?}"),
                    ));
                }
                None if a.additional_properties.is_some() => {
                    self.map_type(a.additional_properties.as_ref(), ctx, pointer)?
                }
                None if a.items.is_some() => self.list_type(a.items.as_ref(), ctx, pointer)?,
                None => TypeRef::Json,
            },
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } | SchemaKind::Not { .. } => {
                return Err(self.construct(pointer, "a union where a direct type was expected"));
            }
        };
        Ok(Lowered { ty, nullable })
    }

    fn list_type(
        &mut self,
        items: Option<&'a ReferenceOr<Box<Schema>>>,
        ctx: &str,
        pointer: &str,
    ) -> Result<TypeRef, Error> {
        Ok(match items {
            Some(items) => {
                let item = self.type_of(
                    items.into(),
                    &format!("{ctx}Item"),
                    &format!("{pointer}/items"),
                )?;
                TypeRef::Vec(Box::new(item.into_element()))
            }
            None => TypeRef::Vec(Box::new(TypeRef::Json)),
        })
    }

    fn map_type(
        &mut self,
        additional: Option<&'a AdditionalProperties>,
        ctx: &str,
        pointer: &str,
    ) -> Result<TypeRef, Error> {
        Ok(match additional {
            None | Some(AdditionalProperties::Any(false)) => TypeRef::JsonObject,
            Some(AdditionalProperties::Any(true)) => TypeRef::Map(Box::new(TypeRef::Json)),
            Some(AdditionalProperties::Schema(value)) => {
                let value = self.type_of(
                    value.as_ref().into(),
                    &format!("{ctx}Value"),
                    &format!("{pointer}/additionalProperties"),
                )?;
                TypeRef::Map(Box::new(value.into_element()))
            }
        })
    }

    fn struct_kind(
        &mut self,
        name: &str,
        schema: &'a Schema,
        pointer: &str,
    ) -> Result<TypeKind, Error> {
        let mut parts = ObjectParts::default();
        self.collect_object(SchemaRef::Item(schema), name, pointer, &mut parts)?;
        let mut field_names = Namespace::default();
        let mut fields = Vec::with_capacity(parts.properties.len());
        for (wire, (lowered, docs)) in &parts.properties {
            fields.push(Field {
                rust_name: field_names.claim(&snake(wire)),
                wire_name: wire.clone(),
                ty: lowered.ty.clone(),
                required: parts.required.contains(wire),
                nullable: lowered.nullable,
                boxed: false,
                docs: docs.clone(),
            });
        }
        let additional = match parts.additional {
            Some((ty, additional_pointer)) => {
                if field_names.contains("additional_properties") {
                    return Err(self.construct(
                        &additional_pointer,
                        "additionalProperties beside a property named `additional_properties`",
                    ));
                }
                Some(ty)
            }
            None => None,
        };
        Ok(TypeKind::Struct {
            fields,
            additional,
            default: false,
        })
    }

    /// Gathers the properties of an object and of every `allOf` part, flattening
    /// referenced components into one struct. Inline property types are named after
    /// the component that declares them (`owner`), so inheritors share them.
    fn collect_object(
        &mut self,
        schema: SchemaRef<'a>,
        owner: &str,
        pointer: &str,
        parts: &mut ObjectParts,
    ) -> Result<(), Error> {
        let schema = match schema {
            SchemaRef::Ref(reference) => {
                let (name, target) = self.resolve(reference, pointer)?;
                let owner = self.component_rust_name(&name);
                let target_pointer = format!("/components/schemas/{}", escape_pointer(&name));
                if parts.visiting.contains(&name) {
                    return Err(self.invalid(pointer, format!("allOf cycle through {name:?}")));
                }
                parts.visiting.insert(name.clone());
                self.collect_object(SchemaRef::Item(target), &owner, &target_pointer, parts)?;
                parts.visiting.remove(&name);
                return Ok(());
            }
            SchemaRef::Item(schema) => schema,
        };
        let (properties, required, additional, all_of) = match &schema.schema_kind {
            SchemaKind::Type(Type::Object(o)) => (
                &o.properties,
                &o.required,
                o.additional_properties.as_ref(),
                None,
            ),
            SchemaKind::AllOf { all_of } => {
                for (i, member) in all_of.iter().enumerate() {
                    self.collect_object(
                        member.into(),
                        owner,
                        &format!("{pointer}/allOf/{i}"),
                        parts,
                    )?;
                }
                return Ok(());
            }
            SchemaKind::Any(a) => {
                if !a.one_of.is_empty() || !a.any_of.is_empty() {
                    return Err(self.construct(pointer, "oneOf/anyOf inside an allOf object"));
                }
                if a.not.is_some() {
                    return Err(self.construct(pointer, "`not` (a negated schema)"));
                }
                if matches!(a.typ.as_deref(), Some(t) if t != "object") || a.items.is_some() {
                    return Err(self.construct(
                        pointer,
                        "a non-object schema merged into an object by allOf",
                    ));
                }
                (
                    &a.properties,
                    &a.required,
                    a.additional_properties.as_ref(),
                    Some(&a.all_of),
                )
            }
            SchemaKind::Type(_) => {
                return Err(self.construct(
                    pointer,
                    "a non-object schema merged into an object by allOf",
                ));
            }
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => {
                return Err(self.construct(pointer, "oneOf/anyOf merged into an object by allOf"));
            }
            SchemaKind::Not { .. } => {
                return Err(self.construct(pointer, "`not` (a negated schema)"));
            }
        };
        for (wire, property) in properties {
            let property_pointer = format!("{pointer}/properties/{}", escape_pointer(wire));
            let ctx = format!("{owner}{}", camel(wire));
            let lowered = self.type_of(property.into(), &ctx, &property_pointer)?;
            let docs = match property {
                ReferenceOr::Item(s) => description_of(s),
                ReferenceOr::Reference { .. } => None,
            };
            // A later part redefining a property replaces it in place.
            parts.properties.insert(wire.clone(), (lowered, docs));
        }
        for name in required {
            parts.required.insert(name.clone());
        }
        if let Some(additional) = additional {
            let additional_pointer = format!("{pointer}/additionalProperties");
            match additional {
                AdditionalProperties::Any(false) => {}
                AdditionalProperties::Any(true) => {
                    parts.additional = Some((TypeRef::Json, additional_pointer))
                }
                AdditionalProperties::Schema(value) => {
                    let value = self.type_of(
                        value.as_ref().into(),
                        &format!("{owner}Value"),
                        &additional_pointer,
                    )?;
                    parts.additional = Some((value.into_element(), additional_pointer));
                }
            }
        }
        if let Some(all_of) = all_of {
            for (i, member) in all_of.iter().enumerate() {
                self.collect_object(member.into(), owner, &format!("{pointer}/allOf/{i}"), parts)?;
            }
        }
        Ok(())
    }

    fn union_kind(
        &mut self,
        name: &str,
        schema: &'a Schema,
        members: &'a [ReferenceOr<Schema>],
        pointer: &str,
    ) -> Result<TypeKind, Error> {
        let key = match &schema.schema_kind {
            SchemaKind::AnyOf { .. } => "anyOf",
            SchemaKind::Any(a) if a.one_of.is_empty() => "anyOf",
            _ => "oneOf",
        };
        let mut variant_names = Namespace::default();
        variant_names.claim("Other");
        let discriminator = schema.schema_data.discriminator.as_ref();
        let mut variants = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            let member_pointer = format!("{pointer}/{key}/{i}");
            let lowered = self.type_of(
                member.into(),
                &format!("{name}Variant{}", i + 1),
                &member_pointer,
            )?;
            let base = match &lowered.ty {
                TypeRef::Named(n) => n.clone(),
                other => primitive_variant_name(other).to_owned(),
            };
            let tag = match (discriminator, member) {
                (Some(d), ReferenceOr::Reference { reference }) => Some(
                    d.mapping
                        .iter()
                        .find(|(_, target)| *target == reference)
                        .map(|(value, _)| value.clone())
                        .unwrap_or_else(|| {
                            reference.rsplit('/').next().unwrap_or(reference).to_owned()
                        }),
                ),
                (Some(_), ReferenceOr::Item(_)) => {
                    return Err(self.construct(
                        &member_pointer,
                        "an inline schema in a union with a discriminator (use $ref)",
                    ));
                }
                (None, _) => None,
            };
            variants.push(UnionVariant {
                rust_name: variant_names.claim(&base),
                ty: lowered.ty,
                tag,
            });
        }
        Ok(TypeKind::Union {
            variants,
            discriminator: discriminator.map(|d| d.property_name.clone()),
        })
    }

    // ----- operations ------------------------------------------------------------

    fn lower_operation(
        &mut self,
        op: &SelectedOperation<'a>,
        method_name: String,
    ) -> Result<Operation, Error> {
        let camel_name = camel(&method_name);
        let operation: &'a openapiv3::Operation = op.operation;
        let pointer = op.pointer.as_str();

        // Parameters: the path item's, overridden by the operation's (same name and place).
        let mut params: Vec<(&'a Parameter, String)> = Vec::new();
        for (list, base) in [
            (
                op.path_params,
                format!("/paths/{}/parameters", escape_pointer(&op.path)),
            ),
            (
                operation.parameters.as_slice(),
                format!("{pointer}/parameters"),
            ),
        ] {
            for (i, param) in list.iter().enumerate() {
                let param_pointer = format!("{base}/{i}");
                let param =
                    self.resolve_component(param, "parameters", |c| &c.parameters, &param_pointer)?;
                let data = param.parameter_data_ref();
                params.retain(|(p, _)| {
                    let d = p.parameter_data_ref();
                    !(d.name == data.name
                        && std::mem::discriminant(*p) == std::mem::discriminant(param))
                });
                params.push((param, param_pointer));
            }
        }

        let mut param_names = Namespace::default();
        let mut path_params = Vec::new();
        let mut query_params = Vec::new();
        let mut header_params = Vec::new();
        for (param, param_pointer) in &params {
            let data = param.parameter_data_ref();
            let ctx = format!("{camel_name}{}", camel(&data.name));
            let schema = match &data.format {
                ParameterSchemaOrContent::Schema(schema) => schema,
                ParameterSchemaOrContent::Content(_) => {
                    return Err(self.construct(
                        param_pointer,
                        "a parameter described by `content` instead of `schema`",
                    ));
                }
            };
            let lowered = self.type_of(schema.into(), &ctx, &format!("{param_pointer}/schema"))?;
            let mut explode = true;
            match param {
                Parameter::Query { style, .. } => {
                    if !matches!(style, QueryStyle::Form) {
                        return Err(self.construct(
                            param_pointer,
                            format!("query parameter style {style:?} (only form is supported)"),
                        ));
                    }
                    explode = data.explode.unwrap_or(true);
                }
                Parameter::Cookie { .. } => {
                    return Err(self.construct(param_pointer, "a cookie parameter"));
                }
                Parameter::Path { .. } | Parameter::Header { .. } => {}
            }
            // OpenAPI does not say how a form-style query serializes an object (or a
            // list of them); Box reads such a parameter as JSON text, so it is sent so.
            let json = !self.is_scalar_or_list(&lowered.ty);
            if json && !matches!(param, Parameter::Query { .. }) {
                return Err(
                    self.construct(param_pointer, "an object-typed path or header parameter")
                );
            }
            let lowered_param = Param {
                rust_name: param_names.claim(&snake(&data.name)),
                wire_name: data.name.clone(),
                ty: lowered.ty,
                required: data.required,
                explode,
                json,
                docs: data.description.clone(),
            };
            match param {
                Parameter::Path { .. } => path_params.push(lowered_param),
                Parameter::Query { .. } => query_params.push(lowered_param),
                Parameter::Header { .. } => header_params.push(lowered_param),
                Parameter::Cookie { .. } => unreachable!("rejected above"),
            }
        }
        // Path parameters in template order; every placeholder needs one and vice versa.
        let placeholders = placeholders(&op.path);
        for name in &placeholders {
            if !path_params.iter().any(|p| &p.wire_name == name) {
                return Err(self.invalid(
                    pointer,
                    format!(
                        "path {:?} has {{{name}}} but no path parameter {name:?}",
                        op.path
                    ),
                ));
            }
        }
        if let Some(extra) = path_params
            .iter()
            .find(|p| !placeholders.contains(&p.wire_name))
        {
            return Err(self.invalid(
                pointer,
                format!(
                    "path parameter {:?} does not appear in path {:?}",
                    extra.wire_name, op.path
                ),
            ));
        }
        path_params.sort_by_key(|p| placeholders.iter().position(|n| n == &p.wire_name));

        let body = match &operation.request_body {
            Some(body) => Some(self.lower_request_body(
                body,
                &camel_name,
                &format!("{pointer}/requestBody"),
            )?),
            None => None,
        };

        let (outcomes, error) = self.lower_responses(operation, &camel_name, pointer)?;

        let server = self.operation_server(op, pointer)?;
        let at_url = !self.servers[&server].variables.is_empty();

        let needs_request_type = !query_params.is_empty()
            || !header_params.is_empty()
            || matches!(
                &body,
                Some(RequestBody {
                    kind: BodyKind::Bytes,
                    ..
                })
            );
        let request_type =
            needs_request_type.then(|| self.names.claim(&format!("{camel_name}Request")));
        let needs_response_type =
            outcomes.len() > 1 || outcomes.iter().any(|o| !o.headers.is_empty());
        let response_type =
            needs_response_type.then(|| self.names.claim(&format!("{camel_name}Response")));

        let docs = join_docs(
            operation.summary.as_deref(),
            operation.description.as_deref(),
        );
        let http_method = op.method.to_uppercase();
        Ok(Operation {
            id: op.id.clone(),
            method_name,
            idempotent: matches!(
                op.method.as_str(),
                "get" | "head" | "put" | "delete" | "options" | "trace"
            ),
            http_method,
            path: op.path.clone(),
            server,
            at_url,
            docs,
            path_params,
            query_params,
            header_params,
            body,
            request_type,
            outcomes,
            response_type,
            error,
        })
    }

    fn is_scalar_or_list(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Vec(inner) => {
                self.is_scalar_or_list(inner) && !matches!(**inner, TypeRef::Vec(_))
            }
            TypeRef::Named(name) => match self.types.get(name).map(|t| &t.kind) {
                Some(TypeKind::Enum { .. }) => true,
                Some(TypeKind::Alias(inner)) => self.is_scalar_or_list(inner),
                _ => false,
            },
            TypeRef::Json | TypeRef::JsonObject | TypeRef::Map(_) => false,
            _ => true,
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

    fn lower_request_body(
        &mut self,
        body: &'a ReferenceOr<openapiv3::RequestBody>,
        camel_name: &str,
        pointer: &str,
    ) -> Result<RequestBody, Error> {
        let body = self.resolve_component(body, "requestBodies", |c| &c.request_bodies, pointer)?;
        let Some((media_type, content)) = pick_media_type(&body.content) else {
            return Err(self.invalid(
                &format!("{pointer}/content"),
                "a request body with no media type",
            ));
        };
        let content_pointer = format!("{pointer}/content/{}", escape_pointer(media_type));
        let kind = if is_json_media(media_type) {
            let ty = match &content.schema {
                Some(schema) => {
                    self.type_of(
                        schema.into(),
                        &format!("{camel_name}Body"),
                        &format!("{content_pointer}/schema"),
                    )?
                    .ty
                }
                None => TypeRef::Json,
            };
            BodyKind::Json(ty)
        } else {
            BodyKind::Bytes
        };
        Ok(RequestBody {
            media_type: media_type.clone(),
            kind,
            required: body.required,
            docs: body.description.clone(),
        })
    }

    fn lower_responses(
        &mut self,
        operation: &'a openapiv3::Operation,
        camel_name: &str,
        pointer: &str,
    ) -> Result<(Vec<Outcome>, TypeRef), Error> {
        let mut outcomes = Vec::new();
        let mut errors: Vec<TypeRef> = Vec::new();
        let mut statuses: Vec<(Option<u16>, &'a ReferenceOr<openapiv3::Response>, String)> =
            Vec::new();
        for (code, response) in &operation.responses.responses {
            let code_pointer = format!("{pointer}/responses/{code}");
            match code {
                StatusCode::Code(n) => statuses.push((Some(*n), response, code_pointer)),
                StatusCode::Range(n) if *n >= 4 => statuses.push((None, response, code_pointer)),
                StatusCode::Range(n) => {
                    return Err(self.construct(
                        &code_pointer,
                        format!("a success status range {n}XX (list the codes)"),
                    ));
                }
            }
        }
        if let Some(default) = &operation.responses.default {
            statuses.push((None, default, format!("{pointer}/responses/default")));
        }
        let successes = statuses
            .iter()
            .filter(|(s, ..)| matches!(s, Some(100..=399)))
            .count();
        for (status, response, response_pointer) in statuses {
            let response =
                self.resolve_component(response, "responses", |c| &c.responses, &response_pointer)?;
            let is_success = matches!(status, Some(100..=399));
            let (media, content) = match pick_media_type(&response.content) {
                Some((media, content)) => (Some(media.clone()), Some(content)),
                None => (None, None),
            };
            let body_ctx = match (successes, status) {
                (1, Some(_)) if is_success => format!("{camel_name}Response"),
                _ => format!(
                    "{camel_name}{}",
                    status.map(status_variant).unwrap_or_else(|| "Error".into())
                ),
            };
            let body = match (&media, content) {
                (Some(media), Some(content)) if is_json_media(media) => match &content.schema {
                    Some(schema) => OutcomeBody::Json(
                        self.type_of(
                            schema.into(),
                            &format!("{body_ctx}Body"),
                            &format!(
                                "{response_pointer}/content/{}/schema",
                                escape_pointer(media)
                            ),
                        )?
                        .ty,
                    ),
                    None => OutcomeBody::Json(TypeRef::Json),
                },
                (Some(_), _) => OutcomeBody::Bytes,
                (None, _) => OutcomeBody::Empty,
            };
            let Some(status) = status.filter(|_| is_success) else {
                errors.push(match body {
                    OutcomeBody::Json(ty) => ty,
                    _ => TypeRef::Json,
                });
                continue;
            };
            let mut header_names = Namespace::default();
            let mut headers = Vec::new();
            for (name, header) in &response.headers {
                let header_pointer = format!("{response_pointer}/headers/{}", escape_pointer(name));
                let header =
                    self.resolve_component(header, "headers", |c| &c.headers, &header_pointer)?;
                let ParameterSchemaOrContent::Schema(schema) = &header.format else {
                    return Err(self.construct(&header_pointer, "a header described by `content`"));
                };
                let ctx = format!("{camel_name}{}", camel(name));
                let ty = self
                    .type_of(schema.into(), &ctx, &format!("{header_pointer}/schema"))?
                    .ty;
                if matches!(
                    ty,
                    TypeRef::Vec(_) | TypeRef::Map(_) | TypeRef::Json | TypeRef::JsonObject
                ) || matches!(&ty, TypeRef::Named(n) if !matches!(self.types.get(n).map(|t| &t.kind), Some(TypeKind::Enum { .. })))
                {
                    return Err(self.construct(
                        &header_pointer,
                        "a response header that is not a single value",
                    ));
                }
                headers.push(ResponseHeader {
                    rust_name: header_names.claim(&snake(name)),
                    wire_name: name.clone(),
                    ty,
                    docs: header.description.clone(),
                });
            }
            outcomes.push(Outcome {
                status,
                variant: status_variant(status),
                body,
                headers,
                docs: Some(response.description.clone()).filter(|d| !d.trim().is_empty()),
            });
        }
        if outcomes.is_empty() {
            return Err(self.construct(
                &format!("{pointer}/responses"),
                "an operation that declares no success (1xx-3xx) response",
            ));
        }
        outcomes.sort_by_key(|o| o.status);
        let error = match errors.split_first() {
            Some((first, rest)) if rest.iter().all(|t| t == first) => first.clone(),
            _ => TypeRef::Json,
        };
        Ok((outcomes, error))
    }

    /// The operation's server (its own, else its path item's, else the spec's), registered once.
    fn operation_server(
        &mut self,
        op: &SelectedOperation<'a>,
        pointer: &str,
    ) -> Result<String, Error> {
        let (servers, servers_pointer) = if !op.operation.servers.is_empty() {
            (
                op.operation.servers.as_slice(),
                format!("{pointer}/servers/0"),
            )
        } else if !op.path_servers.is_empty() {
            (
                op.path_servers,
                format!("/paths/{}/servers/0", escape_pointer(&op.path)),
            )
        } else {
            (self.openapi.servers.as_slice(), "/servers/0".to_owned())
        };
        let (url, docs, variables) = match servers.first() {
            Some(server) => {
                let mut variables = BTreeMap::new();
                for (name, variable) in server.variables.iter().flatten() {
                    variables.insert(name.clone(), variable.default.clone());
                }
                (server.url.clone(), server.description.clone(), variables)
            }
            // OpenAPI's default server is "/": users must configure a base URL.
            None => ("/".to_owned(), None, BTreeMap::new()),
        };
        for name in placeholders(&url) {
            if !variables.contains_key(&name) {
                return Err(self.invalid(
                    &servers_pointer,
                    format!("server URL {url:?} uses {{{name}}} but declares no such variable"),
                ));
            }
        }
        let name = match self.config.servers.get(&url) {
            Some(name) => name.clone(),
            None => snake(url.split("://").nth(1).unwrap_or(&url)),
        };
        let const_name = shouty(&name);
        match self.servers.get(&const_name) {
            Some(existing) if existing.url_template != url => {
                return Err(self.invalid(&servers_pointer, format!(
                    "servers {url:?} and {:?} both get the name {name:?}; name them in the config's [servers]",
                    existing.url_template
                )));
            }
            Some(_) => {}
            None => {
                self.servers.insert(
                    const_name.clone(),
                    Server {
                        name,
                        url_template: url,
                        variables,
                        docs,
                    },
                );
            }
        }
        Ok(const_name)
    }
}

#[derive(Default)]
struct ObjectParts {
    /// Property → (type, docs), in spec order; a later part redefining a property replaces it in place.
    properties: IndexMap<String, (Lowered, Option<String>)>,
    required: BTreeSet<String>,
    additional: Option<(TypeRef, String)>,
    visiting: BTreeSet<String>,
}

fn enum_kind(values: &[String]) -> TypeKind {
    let mut names = Namespace::default();
    names.claim("Unknown");
    let mut seen = BTreeSet::new();
    let variants = values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .map(|value| EnumVariant {
            rust_name: names.claim(&camel(value)),
            wire_value: value.clone(),
        })
        .collect();
    TypeKind::Enum { variants }
}

fn union_or_single(members: &[ReferenceOr<Schema>]) -> Shape<'_> {
    match members {
        [only] => Shape::Single(only.into()),
        _ => Shape::Union(members),
    }
}

/// Whether an `allOf` member only annotates (description, nullable, readOnly...) and
/// adds no structure.
fn is_annotation(member: &ReferenceOr<Schema>) -> bool {
    match member {
        ReferenceOr::Reference { .. } => false,
        ReferenceOr::Item(schema) => match &schema.schema_kind {
            SchemaKind::Any(a) => {
                a.typ.is_none()
                    && a.properties.is_empty()
                    && a.additional_properties.is_none()
                    && a.items.is_none()
                    && a.all_of.is_empty()
                    && a.one_of.is_empty()
                    && a.any_of.is_empty()
                    && a.not.is_none()
                    && a.enumeration.is_empty()
                    && a.format.is_none()
            }
            _ => false,
        },
    }
}

/// Whether a member is a `$ref` to an object-like component (so a component that is
/// `allOf: [$ref]` becomes its own struct rather than an alias).
fn is_object_ref(lowerer: &Lowerer<'_>, member: &ReferenceOr<Schema>) -> bool {
    match member {
        ReferenceOr::Reference { reference } => match lowerer.resolve(reference, "") {
            Ok((_, schema)) => {
                matches!(
                    &schema.schema_kind,
                    SchemaKind::Type(Type::Object(_)) | SchemaKind::AllOf { .. }
                ) || matches!(&schema.schema_kind, SchemaKind::Any(a) if !a.properties.is_empty() || !a.all_of.is_empty())
            }
            Err(_) => false,
        },
        ReferenceOr::Item(_) => false,
    }
}

/// `nullable: true` stated by an annotation member of an `allOf`.
fn annotations_nullable(schema: &Schema) -> bool {
    let members = match &schema.schema_kind {
        SchemaKind::AllOf { all_of } => all_of,
        SchemaKind::Any(a) => &a.all_of,
        _ => return false,
    };
    members
        .iter()
        .any(|m| matches!(m, ReferenceOr::Item(s) if is_annotation(m) && s.schema_data.nullable))
}

/// Where a `Single` member sits, for its JSON pointer.
fn single_member_key(schema: &Schema, member: SchemaRef<'_>) -> String {
    let (key, members) = match &schema.schema_kind {
        SchemaKind::AllOf { all_of } => ("allOf", all_of),
        SchemaKind::OneOf { one_of } => ("oneOf", one_of),
        SchemaKind::AnyOf { any_of } => ("anyOf", any_of),
        SchemaKind::Any(a) if !a.all_of.is_empty() => ("allOf", &a.all_of),
        SchemaKind::Any(a) if !a.one_of.is_empty() => ("oneOf", &a.one_of),
        SchemaKind::Any(a) => ("anyOf", &a.any_of),
        _ => return String::new(),
    };
    let index = members
        .iter()
        .position(|m| match (m, member) {
            (ReferenceOr::Reference { reference }, SchemaRef::Ref(r)) => reference == r,
            (ReferenceOr::Item(s), SchemaRef::Item(t)) => std::ptr::eq(s, t),
            _ => false,
        })
        .unwrap_or(0);
    format!("{key}/{index}")
}

/// A property's description, or the first one among its `allOf` annotations.
fn description_of(schema: &Schema) -> Option<String> {
    if let Some(d) = &schema.schema_data.description {
        return Some(d.clone());
    }
    let members = match &schema.schema_kind {
        SchemaKind::AllOf { all_of } => all_of,
        SchemaKind::Any(a) => &a.all_of,
        _ => return None,
    };
    members.iter().find_map(|m| match m {
        ReferenceOr::Item(s) => s.schema_data.description.clone(),
        ReferenceOr::Reference { .. } => None,
    })
}

fn string_type(format: &VariantOrUnknownOrEmpty<StringFormat>) -> TypeRef {
    match format {
        VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::DateTime,
        VariantOrUnknownOrEmpty::Item(StringFormat::Date) => TypeRef::Date,
        // binary/byte/password and unknown formats (url, email, uuid, digest...) stay strings:
        // they are text on the wire, and a stricter type would reject what a server sends.
        _ => TypeRef::String,
    }
}

fn integer_type(format: &VariantOrUnknownOrEmpty<openapiv3::IntegerFormat>) -> TypeRef {
    match format {
        VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => TypeRef::I32,
        _ => TypeRef::I64,
    }
}

fn primitive_variant_name(ty: &TypeRef) -> &'static str {
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

/// A variant name for a status: its reason phrase in UpperCamelCase.
fn status_variant(status: u16) -> String {
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

fn is_json_media(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// The media type to use: JSON first, then the first listed.
fn pick_media_type<V>(content: &IndexMap<String, V>) -> Option<(&String, &V)> {
    content
        .iter()
        .find(|(m, _)| is_json_media(m))
        .or_else(|| content.iter().next())
}

/// `{name}` placeholders of a path or server template, in order.
fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        names.push(rest[start + 1..start + end].to_owned());
        rest = &rest[start + end + 1..];
    }
    names
}

fn join_docs(summary: Option<&str>, description: Option<&str>) -> Option<String> {
    match (
        summary.map(str::trim).filter(|s| !s.is_empty()),
        description.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(s), Some(d)) => Some(format!("{s}\n\n{d}")),
        (Some(s), None) => Some(s.to_owned()),
        (None, Some(d)) => Some(d.to_owned()),
        (None, None) => None,
    }
}

/// The component schemas reachable from the selected operations.
fn schema_closure(json: &Value, selected: &[SelectedOperation<'_>]) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut pending: Vec<&Value> = Vec::new();
    for op in selected {
        let item = &json["paths"][&op.path];
        pending.push(&item[&op.method]);
        pending.push(&item["parameters"]);
    }
    let mut seen_refs = BTreeSet::new();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && seen_refs.insert(reference.clone())
                {
                    if let Some(name) = reference.strip_prefix(SCHEMA_PREFIX) {
                        refs.insert(name.replace("~1", "/").replace("~0", "~"));
                    }
                    if let Some(target) = reference.strip_prefix('#').and_then(|p| json.pointer(p))
                    {
                        pending.push(target);
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    refs
}

fn most_common_error(operations: &[Operation]) -> Option<TypeRef> {
    let mut counts: BTreeMap<&TypeRef, usize> = BTreeMap::new();
    for op in operations {
        if op.error != TypeRef::Json {
            *counts.entry(&op.error).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(t, _)| t.clone())
}

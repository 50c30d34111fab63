//! Schema → type: what a schema becomes (a direct type, an enum, a union, a struct)
//! and the type a use site gets, defining named types as they are met.

use std::collections::BTreeSet;

use openapiv3::{
    AdditionalProperties, AnySchema, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::merge::SharedPart;
use super::names::{item_ctx, primitive_variant_name, value_ctx, variant_ctx};
use super::{Lowered, Lowerer, SCHEMA_PREFIX, SchemaRef};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, camel};

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
    /// Any JSON value: the lenient reading of a schema that breaks OpenAPI.
    AnyValue,
    /// An object with properties (or `allOf`) and a union: a union whose alternatives
    /// each merge the shared part with one of the union's. The union is the schema's
    /// own `oneOf`/`anyOf` (`None`), or its `allOf` part `i` (`Some(i)`).
    Distributed(Option<usize>),
}

impl<'a> Lowerer<'a> {
    /// Defines a component schema's type (once).
    pub(super) fn ensure_component(&mut self, name: &str, from: &str) -> Result<String, Error> {
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
                let target = match self.resolve(reference, &pointer) {
                    Ok((target, _)) => TypeRef::Named(self.ensure_component(&target, &pointer)?),
                    Err(error) => {
                        self.defect(error, "any JSON value (`serde_json::Value`)")?;
                        TypeRef::Json
                    }
                };
                self.types.insert(
                    rust.clone(),
                    TypeDef {
                        name: rust.clone(),
                        docs: None,
                        kind: TypeKind::Alias(target),
                        pointer,
                        usage: Usage::default(),
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
        let def = TypeDef {
            name: name.clone(),
            docs,
            kind,
            pointer: pointer.to_owned(),
            usage: Usage::default(),
        };
        self.types.insert(name, def);
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
            Shape::Distributed(part) => self.distributed_kind(name, schema, part, pointer)?,
            Shape::Direct => TypeKind::Alias(self.direct_type(schema, name, pointer)?.ty),
            Shape::AnyValue => TypeKind::Alias(TypeRef::Json),
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
        &mut self,
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
            SchemaKind::AllOf { all_of } => self.all_of_shape(all_of, false, component),
            SchemaKind::Not { .. } => {
                return Err(self.construct(pointer, "`not` (a negated schema)"));
            }
            SchemaKind::Any(a) => return self.any_shape(a, pointer, component),
        })
    }

    /// The shape of an object made of `properties` (when `has_properties`) and `all_of`:
    /// nothing structural is any value, one structural member is that member (unless,
    /// for a component, it is another object component), anything else a struct.
    fn all_of_shape(
        &self,
        all_of: &'a [ReferenceOr<Schema>],
        has_properties: bool,
        component: bool,
    ) -> Shape<'a> {
        let structural: Vec<&ReferenceOr<Schema>> =
            all_of.iter().filter(|m| !is_annotation(m)).collect();
        match (has_properties, structural.as_slice()) {
            (false, []) => Shape::Direct,
            (false, [only]) if !(component && is_object_ref(self, only)) => {
                Shape::Single((*only).into())
            }
            // Parts that are all of one scalar or list type (an id that is a string and
            // a string): a value is of that type; the others only constrain it.
            (false, [first, rest @ ..])
                if self.value_type(first).is_some()
                    && rest
                        .iter()
                        .all(|m| self.value_type(m) == self.value_type(first)) =>
            {
                Shape::Single((*first).into())
            }
            _ => match self.union_part(&structural) {
                // Objects and one union: "all of these, and one of those".
                Some(union) => Shape::Distributed(
                    all_of
                        .iter()
                        .position(|m| std::ptr::eq(m, structural[union])),
                ),
                None => Shape::Struct,
            },
        }
    }

    /// Which of `parts` is a union of several alternatives (through `$ref`s), when
    /// exactly one is.
    fn union_part(&self, parts: &[&ReferenceOr<Schema>]) -> Option<usize> {
        let is_union = |member: &ReferenceOr<Schema>| {
            let schema = match member {
                ReferenceOr::Reference { reference } => match self.resolve(reference, "") {
                    Ok((_, schema)) => schema,
                    Err(_) => return false,
                },
                ReferenceOr::Item(schema) => schema,
            };
            union_members(schema).is_some_and(|members| members.len() > 1)
        };
        let unions: Vec<usize> = (0..parts.len()).filter(|&i| is_union(parts[i])).collect();
        match unions.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// The JSON type of a schema that is not an object (through `$ref`s), if it says.
    fn value_type(&self, member: &ReferenceOr<Schema>) -> Option<&'static str> {
        let schema = match member {
            ReferenceOr::Reference { reference } => self.resolve(reference, "").ok()?.1,
            ReferenceOr::Item(schema) => schema,
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(_)) => Some("string"),
            SchemaKind::Type(Type::Integer(_)) => Some("integer"),
            SchemaKind::Type(Type::Number(_)) => Some("number"),
            SchemaKind::Type(Type::Boolean(_)) => Some("boolean"),
            SchemaKind::Type(Type::Array(_)) => Some("array"),
            SchemaKind::Any(a) => match a.typ.as_deref() {
                Some("string") => Some("string"),
                Some("integer") => Some("integer"),
                Some("number") => Some("number"),
                Some("boolean") => Some("boolean"),
                Some("array") => Some("array"),
                _ => None,
            },
            _ => None,
        }
    }

    /// The shape of a schema without a single recognised kind (`type` missing, or
    /// mixed with composition keywords).
    fn any_shape(
        &mut self,
        a: &'a AnySchema,
        pointer: &str,
        component: bool,
    ) -> Result<Shape<'a>, Error> {
        if a.not.is_some() {
            return Err(self.construct(pointer, "`not` (a negated schema)"));
        }
        let not_object = matches!(a.typ.as_deref(), Some(t) if t != "object");
        if not_object && !a.properties.is_empty() && a.all_of.is_empty() {
            // `properties` applies to objects only: a value of another type is not one.
            self.warn(
                &format!("{pointer}/properties"),
                format!(
                    "`properties` beside `type: {}`: ignored (they apply to objects only)",
                    a.typ.as_deref().unwrap_or_default()
                ),
            );
        }
        let has_object_parts = (!a.properties.is_empty() && !not_object) || !a.all_of.is_empty();
        let unions = if !a.one_of.is_empty() {
            Some(&a.one_of)
        } else if !a.any_of.is_empty() {
            Some(&a.any_of)
        } else {
            None
        };
        Ok(match (unions, has_object_parts) {
            (Some(_), true) => Shape::Distributed(None),
            (Some(members), false) => union_or_single(members),
            (None, true) => self.all_of_shape(&a.all_of, !a.properties.is_empty(), component),
            (None, false) => self.loose_enum_shape(a, pointer)?,
        })
    }

    /// A string enum given without a recognised kind, else a direct type.
    fn loose_enum_shape(&mut self, a: &'a AnySchema, pointer: &str) -> Result<Shape<'a>, Error> {
        if a.typ.as_deref() == Some("string") {
            // A value a string cannot hold would be dropped from the
            // enum; `null` is the nullable's (it becomes `Option`).
            let wrong = a
                .enumeration
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_string() || v.is_null()));
            if let Some((i, value)) = wrong {
                let error = self.invalid(
                    &format!("{pointer}/enum/{i}"),
                    format!("enum value {value} is not a string, but the schema's type is string"),
                );
                self.defect(
                    error,
                    "any JSON value (`serde_json::Value`), which keeps every value",
                )?;
                return Ok(Shape::AnyValue);
            }
        }
        let values: Vec<String> = a
            .enumeration
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        Ok(
            if a.typ.as_deref() == Some("string") && !values.is_empty() {
                Shape::Enum(values)
            } else {
                Shape::Direct
            },
        )
    }

    /// The type of a schema at a use site; `ctx` names an inline type if one is needed.
    pub(super) fn type_of(
        &mut self,
        schema: SchemaRef<'a>,
        ctx: &str,
        pointer: &str,
    ) -> Result<Lowered, Error> {
        match schema {
            SchemaRef::Ref(reference) => {
                let (name, target) = match self.resolve(reference, pointer) {
                    Ok(found) => found,
                    Err(error) => {
                        self.defect(error, "any JSON value (`serde_json::Value`)")?;
                        return Ok(Lowered {
                            ty: TypeRef::Json,
                            nullable: false,
                        });
                    }
                };
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

    /// The type of an inline schema, defined under the name `ctx` if it needs one.
    fn inline_type(
        &mut self,
        schema: &'a Schema,
        ctx: &str,
        pointer: &str,
    ) -> Result<Lowered, Error> {
        let nullable = schema.schema_data.nullable || annotations_nullable(schema);
        let ty = match self.shape(schema, pointer, false)? {
            Shape::Direct => return self.direct_type(schema, ctx, pointer),
            Shape::AnyValue => TypeRef::Json,
            Shape::Single(member) => {
                let member_pointer = format!("{pointer}/{}", single_member_key(schema, member));
                let inner = self.type_of(member, ctx, &member_pointer)?;
                return Ok(Lowered {
                    ty: inner.ty,
                    nullable: nullable || inner.nullable,
                });
            }
            Shape::Struct | Shape::Enum(_) | Shape::Union(_) | Shape::Distributed(_) => {
                let name = self.claim_type_name(ctx);
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

    /// A list of `items` (of any value when the schema does not say).
    fn list_type(
        &mut self,
        items: Option<&'a ReferenceOr<Box<Schema>>>,
        ctx: &str,
        pointer: &str,
    ) -> Result<TypeRef, Error> {
        Ok(match items {
            Some(items) => {
                let item =
                    self.type_of(items.into(), &item_ctx(ctx), &format!("{pointer}/items"))?;
                TypeRef::Vec(Box::new(item.into_element()))
            }
            None => TypeRef::Vec(Box::new(TypeRef::Json)),
        })
    }

    /// An object without properties: a map of its `additionalProperties`, or any object.
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
                    &value_ctx(ctx),
                    &format!("{pointer}/additionalProperties"),
                )?;
                TypeRef::Map(Box::new(value.into_element()))
            }
        })
    }

    /// A union of `members`, tagged when the schema declares a discriminator.
    fn union_kind(
        &mut self,
        name: &str,
        schema: &'a Schema,
        members: &'a [ReferenceOr<Schema>],
        pointer: &str,
    ) -> Result<TypeKind, Error> {
        let (key, mut variant_names, discriminator) = union_parts(schema);
        let mut variants = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            let member_pointer = format!("{pointer}/{key}/{i}");
            let lowered = self.type_of(member.into(), &variant_ctx(name, i), &member_pointer)?;
            let base = match &lowered.ty {
                TypeRef::Named(n) => n.clone(),
                other => primitive_variant_name(other).to_owned(),
            };
            let tag = self.variant_tag(discriminator, member, &member_pointer)?;
            variants.push(UnionVariant {
                rust_name: variant_names.claim(&base),
                ty: lowered.ty,
                tag,
            });
        }
        let text = variants
            .iter()
            .all(|v| !matches!(v.ty, TypeRef::Option(_)) && self.is_text(&v.ty));
        Ok(TypeKind::Union {
            variants,
            discriminator: discriminator.map(|d| d.property_name.clone()),
            text,
        })
    }

    /// The discriminator value of a union's alternative: its mapping's key, else the
    /// name its `$ref` ends with.
    fn variant_tag(
        &self,
        discriminator: Option<&openapiv3::Discriminator>,
        member: &ReferenceOr<Schema>,
        member_pointer: &str,
    ) -> Result<Option<String>, Error> {
        Ok(match (discriminator, member) {
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
                    member_pointer,
                    "an inline schema in a union with a discriminator (use $ref)",
                ));
            }
            (None, _) => None,
        })
    }

    /// An object with shared properties (or `allOf` parts) and a union (its own
    /// `oneOf`/`anyOf`, or the `allOf` part `part`): a union of structs, alternative `i`
    /// being the shared part merged with the union's member `i` (what "all of these,
    /// and one of those" means), named `{name}Variant{i+1}`.
    fn distributed_kind(
        &mut self,
        name: &str,
        schema: &'a Schema,
        part: Option<usize>,
        pointer: &str,
    ) -> Result<TypeKind, Error> {
        let (union, union_pointer) = match part {
            None => (schema, pointer.to_owned()),
            Some(i) => match all_of_members(schema).get(i) {
                Some(ReferenceOr::Item(inner)) => (inner, format!("{pointer}/allOf/{i}")),
                Some(ReferenceOr::Reference { reference }) => {
                    let (target, inner) = self.resolve(reference, pointer)?;
                    (
                        inner,
                        format!("/components/schemas/{}", escape_pointer(&target)),
                    )
                }
                None => unreachable!("the shape names an allOf part the schema has"),
            },
        };
        let members = union_members(union).unwrap_or_default();
        let (key, mut variant_names, discriminator) = union_parts(union);
        let shared = SharedPart {
            schema,
            pointer: pointer.to_owned(),
            owner: name.to_owned(),
            union_pointer: union_pointer.clone(),
        };
        let mut variants = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            let member_pointer = format!("{union_pointer}/{key}/{i}");
            let variant_type = self.claim_type_name(&variant_ctx(name, i));
            let kind = self.merged_kind(&variant_type, &shared, member, &member_pointer)?;
            let docs = match member {
                ReferenceOr::Item(m) => m.schema_data.description.clone(),
                ReferenceOr::Reference { .. } => None,
            };
            self.types.insert(
                variant_type.clone(),
                TypeDef {
                    name: variant_type.clone(),
                    docs,
                    kind,
                    pointer: member_pointer.clone(),
                    usage: Usage::default(),
                },
            );
            let base = match member {
                ReferenceOr::Reference { reference } => {
                    camel(reference.rsplit('/').next().unwrap_or(""))
                }
                ReferenceOr::Item(_) => format!("Variant{}", i + 1),
            };
            variants.push(UnionVariant {
                rust_name: variant_names.claim(&base),
                ty: TypeRef::Named(variant_type),
                tag: self.variant_tag(discriminator, member, &member_pointer)?,
            });
        }
        Ok(TypeKind::Union {
            variants,
            discriminator: discriminator.map(|d| d.property_name.clone()),
            text: false,
        })
    }

    /// A type through the aliases that name it.
    pub(super) fn resolve_alias(&self, ty: &TypeRef) -> TypeRef {
        let mut ty = ty.clone();
        for _ in 0..32 {
            match &ty {
                TypeRef::Named(name) => match self.types.get(name).map(|t| &t.kind) {
                    Some(TypeKind::Alias(inner)) => ty = inner.clone(),
                    _ => break,
                },
                _ => break,
            }
        }
        ty
    }

    /// Whether a value of type `ty` has a text form: a scalar or an enum.
    pub(super) fn is_text(&self, ty: &TypeRef) -> bool {
        match self.resolve_alias(ty) {
            TypeRef::Named(name) => {
                matches!(
                    self.types.get(&name).map(|t| &t.kind),
                    Some(TypeKind::Enum { .. } | TypeKind::Union { text: true, .. })
                )
            }
            TypeRef::Json | TypeRef::JsonObject | TypeRef::Map(_) | TypeRef::Vec(_) => false,
            // A list item that may be null: its text when it is not.
            TypeRef::Option(inner) => self.is_text(&inner),
            TypeRef::String
            | TypeRef::Bool
            | TypeRef::I32
            | TypeRef::I64
            | TypeRef::F64
            | TypeRef::DateTime
            | TypeRef::Date => true,
        }
    }

    /// Whether `ty` is text or a list of text (a query parameter, a repeated part).
    pub(super) fn is_text_or_list(&self, ty: &TypeRef) -> bool {
        match self.resolve_alias(ty) {
            TypeRef::Vec(item) => self.is_text(&item),
            _ => self.is_text(ty),
        }
    }
}

/// The alternatives of a union schema (its `oneOf`, else its `anyOf`), if it is one.
fn union_members(schema: &Schema) -> Option<&[ReferenceOr<Schema>]> {
    match &schema.schema_kind {
        SchemaKind::OneOf { one_of } => Some(one_of),
        SchemaKind::AnyOf { any_of } => Some(any_of),
        SchemaKind::Any(a) if !a.one_of.is_empty() => Some(&a.one_of),
        SchemaKind::Any(a) if !a.any_of.is_empty() => Some(&a.any_of),
        _ => None,
    }
}

/// The `allOf` parts of a schema.
fn all_of_members(schema: &Schema) -> &[ReferenceOr<Schema>] {
    match &schema.schema_kind {
        SchemaKind::AllOf { all_of } => all_of,
        SchemaKind::Any(a) => &a.all_of,
        _ => &[],
    }
}

/// What the alternatives of a union schema share: the keyword that lists them (for
/// their pointers), a namespace for variant names (`Other` taken), its discriminator.
fn union_parts(schema: &Schema) -> (&'static str, Namespace, Option<&openapiv3::Discriminator>) {
    let key = match &schema.schema_kind {
        SchemaKind::AnyOf { .. } => "anyOf",
        SchemaKind::Any(a) if a.one_of.is_empty() => "anyOf",
        _ => "oneOf",
    };
    let mut variant_names = Namespace::default();
    variant_names.claim("Other");
    (
        key,
        variant_names,
        schema.schema_data.discriminator.as_ref(),
    )
}

/// An open enum of `values` (a repeated value once).
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

/// A union of one alternative is that alternative.
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

/// The Rust type of a string format.
fn string_type(format: &VariantOrUnknownOrEmpty<StringFormat>) -> TypeRef {
    match format {
        VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::DateTime,
        VariantOrUnknownOrEmpty::Item(StringFormat::Date) => TypeRef::Date,
        // binary/byte/password and unknown formats (url, email, uuid, digest...) stay strings:
        // they are text on the wire, and a stricter type would reject what a server sends.
        _ => TypeRef::String,
    }
}

/// The Rust type of an integer format.
fn integer_type(format: &VariantOrUnknownOrEmpty<openapiv3::IntegerFormat>) -> TypeRef {
    match format {
        VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => TypeRef::I32,
        _ => TypeRef::I64,
    }
}

//! Objects: the properties of an object and of its `allOf` parts, merged into one struct.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type};

use super::names::{member_ctx, value_ctx};
use super::{Lowered, Lowerer, SchemaRef};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, snake};

/// What the parts of an object add up to, gathered part by part.
#[derive(Default)]
struct ObjectParts {
    /// Property → (type, docs), in spec order; a later part redefining a property replaces it in place.
    properties: IndexMap<String, (Lowered, Option<String>)>,
    required: BTreeSet<String>,
    /// The type of unlisted properties, with where it was declared.
    additional: Option<(TypeRef, String)>,
    /// Components being merged, to stop at an `allOf` cycle.
    visiting: BTreeSet<String>,
}

impl<'a> Lowerer<'a> {
    /// The struct `name` that `schema` and its `allOf` parts make.
    pub(super) fn struct_kind(
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
            SchemaRef::Ref(reference) => return self.collect_component(reference, pointer, parts),
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
                return self.collect_all_of(all_of, owner, pointer, parts);
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
        self.collect_properties(properties, owner, pointer, parts)?;
        for name in required {
            parts.required.insert(name.clone());
        }
        if let Some(additional) = additional {
            self.collect_additional(additional, owner, pointer, parts)?;
        }
        if let Some(all_of) = all_of {
            self.collect_all_of(all_of, owner, pointer, parts)?;
        }
        Ok(())
    }

    /// Merges the component `reference` names, as its own owner (an `allOf` cycle is an error).
    fn collect_component(
        &mut self,
        reference: &str,
        pointer: &str,
        parts: &mut ObjectParts,
    ) -> Result<(), Error> {
        let (name, target) = self.resolve(reference, pointer)?;
        let owner = self.component_rust_name(&name);
        let target_pointer = format!("/components/schemas/{}", escape_pointer(&name));
        if parts.visiting.contains(&name) {
            return Err(self.invalid(pointer, format!("allOf cycle through {name:?}")));
        }
        parts.visiting.insert(name.clone());
        self.collect_object(SchemaRef::Item(target), &owner, &target_pointer, parts)?;
        parts.visiting.remove(&name);
        Ok(())
    }

    /// Merges every `allOf` member, in order.
    fn collect_all_of(
        &mut self,
        all_of: &'a [ReferenceOr<Schema>],
        owner: &str,
        pointer: &str,
        parts: &mut ObjectParts,
    ) -> Result<(), Error> {
        for (i, member) in all_of.iter().enumerate() {
            self.collect_object(member.into(), owner, &format!("{pointer}/allOf/{i}"), parts)?;
        }
        Ok(())
    }

    /// Adds (or replaces in place) the properties one part declares.
    fn collect_properties(
        &mut self,
        properties: &'a IndexMap<String, ReferenceOr<Box<Schema>>>,
        owner: &str,
        pointer: &str,
        parts: &mut ObjectParts,
    ) -> Result<(), Error> {
        for (wire, property) in properties {
            let property_pointer = format!("{pointer}/properties/{}", escape_pointer(wire));
            let lowered =
                self.type_of(property.into(), &member_ctx(owner, wire), &property_pointer)?;
            let docs = match property {
                ReferenceOr::Item(s) => description_of(s),
                ReferenceOr::Reference { .. } => None,
            };
            // A later part redefining a property replaces it in place.
            parts.properties.insert(wire.clone(), (lowered, docs));
        }
        Ok(())
    }

    /// Records the type of unlisted properties one part allows (the last part to say wins).
    fn collect_additional(
        &mut self,
        additional: &'a AdditionalProperties,
        owner: &str,
        pointer: &str,
        parts: &mut ObjectParts,
    ) -> Result<(), Error> {
        let additional_pointer = format!("{pointer}/additionalProperties");
        match additional {
            AdditionalProperties::Any(false) => {}
            AdditionalProperties::Any(true) => {
                parts.additional = Some((TypeRef::Json, additional_pointer))
            }
            AdditionalProperties::Schema(value) => {
                let value = self.type_of(
                    value.as_ref().into(),
                    &value_ctx(owner),
                    &additional_pointer,
                )?;
                parts.additional = Some((value.into_element(), additional_pointer));
            }
        }
        Ok(())
    }
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

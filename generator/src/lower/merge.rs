//! Objects: the properties of an object and of its `allOf` parts, merged into one struct.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type};

use super::names::{member_ctx, value_ctx};
use super::{Lowered, Lowerer, SchemaRef};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, snake};

/// A property as the part that declares it gives it.
struct Property {
    lowered: Lowered,
    docs: Option<String>,
    pointer: String,
}

/// What the parts of an object add up to, gathered part by part.
#[derive(Default)]
struct ObjectParts {
    /// Property → its type, docs and pointer, in spec order; a later part redefining a
    /// property replaces it in place.
    properties: IndexMap<String, Property>,
    /// Required names, with where each is first listed.
    required: BTreeMap<String, String>,
    /// The type of unlisted properties, with where it was declared.
    additional: Option<(TypeRef, String)>,
    /// Components being merged, to stop at an `allOf` cycle.
    visiting: BTreeSet<String>,
    /// The pointer of the schema whose `oneOf`/`anyOf` is being distributed (see
    /// `merged_kind`): the schema itself, whose other keywords are merged, or an `allOf`
    /// part that is the union, left out. Its alternatives are not merged here.
    shared_part_of: Option<String>,
}

/// What every alternative of a distributed union shares.
pub(super) struct SharedPart<'a> {
    /// The schema with the shared properties and `allOf` parts.
    pub schema: &'a Schema,
    /// Its pointer.
    pub pointer: String,
    /// The Rust name its inline types are named after.
    pub owner: String,
    /// The pointer of the union (the schema itself, or one of its `allOf` parts).
    pub union_pointer: String,
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
        self.struct_of(parts)
    }

    /// The struct `name` of the shared part of `shared.schema` (its properties and
    /// `allOf`, without the union at `shared.union_pointer`; inline types named after
    /// `shared.owner`) merged with `member`, one of the union's alternatives.
    pub(super) fn merged_kind(
        &mut self,
        name: &str,
        shared: &SharedPart<'a>,
        member: &'a ReferenceOr<Schema>,
        member_pointer: &str,
    ) -> Result<TypeKind, Error> {
        let mut parts = ObjectParts {
            shared_part_of: Some(shared.union_pointer.clone()),
            ..ObjectParts::default()
        };
        let schema = SchemaRef::Item(shared.schema);
        self.collect_object(schema, &shared.owner, &shared.pointer, &mut parts)?;
        parts.shared_part_of = None;
        self.collect_object(member.into(), name, member_pointer, &mut parts)?;
        self.struct_of(parts)
    }

    /// The struct that merged parts make.
    fn struct_of(&mut self, parts: ObjectParts) -> Result<TypeKind, Error> {
        let mut field_names = Namespace::default();
        let mut fields = Vec::with_capacity(parts.properties.len());
        for (wire, property) in &parts.properties {
            fields.push(Field {
                rust_name: field_names.claim(&snake(wire)),
                wire_name: wire.clone(),
                ty: property.lowered.ty.clone(),
                required: parts.required.contains_key(wire),
                nullable: property.lowered.nullable,
                boxed: false,
                docs: property.docs.clone(),
                pointer: property.pointer.clone(),
            });
        }
        for (wire, required_pointer) in &parts.required {
            if !parts.properties.contains_key(wire) {
                // JSON Schema allows it (the member must be there, with any value); the
                // struct has no field to hold it, so it is named rather than dropped silently.
                self.warn(
                    required_pointer,
                    format!(
                        "`required` names {wire:?}, which no property declares: ignored (the \
                         struct has no field {wire:?})"
                    ),
                );
            }
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
            unknown_fields: None,
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
                let shared_only = parts.shared_part_of.as_deref() == Some(pointer);
                if (!a.one_of.is_empty() || !a.any_of.is_empty()) && !shared_only {
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
                if parts.shared_part_of.as_deref() == Some(pointer) {
                    // The union being distributed: each alternative is merged apart.
                    return Ok(());
                }
                return Err(self.construct(pointer, "oneOf/anyOf merged into an object by allOf"));
            }
            SchemaKind::Not { .. } => {
                return Err(self.construct(pointer, "`not` (a negated schema)"));
            }
        };
        self.collect_properties(properties, owner, pointer, parts)?;
        for (i, name) in required.iter().enumerate() {
            parts
                .required
                .entry(name.clone())
                .or_insert_with(|| format!("{pointer}/required/{i}"));
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
        let (name, target) = match self.resolve(reference, pointer) {
            Ok(found) => found,
            Err(error) => return self.defect(error, "a part that adds no properties"),
        };
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
            let property = Property {
                lowered,
                docs,
                pointer: property_pointer,
            };
            parts.properties.insert(wire.clone(), property);
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{config, spec};
    use super::*;

    /// The types lowering `component` of a spec with these `schemas` defines, or the error.
    fn define(schemas: &str, component: &str) -> Result<Vec<TypeDef>, String> {
        let yaml = format!(
            "openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{schemas}"
        );
        let (spec, config) = (spec(&yaml), config(""));
        let mut lowerer = Lowerer::new(&spec, &config);
        match lowerer.ensure_component(component, "") {
            Ok(_) => Ok(lowerer.types.into_values().collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn find<'t>(types: &'t [TypeDef], name: &str) -> &'t TypeKind {
        &types.iter().find(|t| t.name == name).unwrap().kind
    }

    /// (wire name, type, required, docs) of each field of struct `name`.
    fn fields(types: &[TypeDef], name: &str) -> Vec<(String, TypeRef, bool, Option<String>)> {
        let TypeKind::Struct { fields, .. } = find(types, name) else {
            panic!("{name} is not a struct");
        };
        fields
            .iter()
            .map(|f| {
                (
                    f.wire_name.clone(),
                    f.ty.clone(),
                    f.required,
                    f.docs.clone(),
                )
            })
            .collect()
    }

    const INHERITANCE: &str = r##"
    Base:
      type: object
      required: [id]
      properties:
        id: {type: string}
        name: {type: string}
        meta: {type: object, properties: {etag: {type: string}}}
    Derived:
      allOf:
        - $ref: "#/components/schemas/Base"
        - required: [size]
          properties:
            size: {type: integer}
            name: {type: integer, description: The new name}
            owner:
              allOf:
                - $ref: "#/components/schemas/Base"
                - description: Who owns it
"##;

    #[test]
    fn parts_merge_in_order_and_a_later_part_replaces_a_property_in_place() {
        let types = define(INHERITANCE, "Derived").unwrap();
        let named = |n: &str| TypeRef::Named(n.into());
        assert_eq!(
            fields(&types, "Derived"),
            [
                ("id".into(), TypeRef::String, true, None),
                (
                    "name".into(),
                    TypeRef::I64,
                    false,
                    Some("The new name".into())
                ),
                ("meta".into(), named("BaseMeta"), false, None),
                ("size".into(), TypeRef::I64, true, None),
                (
                    "owner".into(),
                    named("Base"),
                    false,
                    Some("Who owns it".into())
                ),
            ]
        );
    }

    #[test]
    fn an_inherited_inline_type_is_named_after_its_declarer_and_shared() {
        let types = define(INHERITANCE, "Derived").unwrap();
        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Base", "BaseMeta", "Derived"]);
        assert_eq!(
            fields(&types, "Base")[2].1,
            TypeRef::Named("BaseMeta".into())
        );
    }

    #[test]
    fn additional_properties_become_the_structs_map_of_their_own_type() {
        let schemas = r#"
    Tags:
      properties: {name: {type: string}}
      additionalProperties: {properties: {x: {type: string}}}
"#;
        let types = define(schemas, "Tags").unwrap();
        let TypeKind::Struct { additional, .. } = find(&types, "Tags") else {
            panic!("not a struct");
        };
        assert_eq!(additional, &Some(TypeRef::Named("TagsValue".into())));

        let clash = r#"
    Tags:
      properties: {additional_properties: {type: string}}
      additionalProperties: true
"#;
        let error = define(clash, "Tags").unwrap_err();
        assert!(
            error.contains("/components/schemas/Tags/additionalProperties"),
            "{error}"
        );
        assert!(error.contains("beside a property named"), "{error}");
    }

    #[test]
    fn an_all_of_cycle_is_invalid() {
        let schemas = r##"
    A:
      allOf:
        - $ref: "#/components/schemas/B"
        - properties: {a: {type: string}}
    B:
      allOf:
        - $ref: "#/components/schemas/A"
        - properties: {b: {type: string}}
"##;
        let error = define(schemas, "A").unwrap_err();
        assert!(
            error.contains("at /components/schemas/A/allOf/0"),
            "{error}"
        );
        assert!(error.contains("allOf cycle through \"B\""), "{error}");
    }

    #[test]
    fn a_part_that_is_not_an_object_cannot_be_merged() {
        let schemas = r##"
    Id: {type: string}
    Thing:
      allOf:
        - properties: {a: {type: string}}
        - $ref: "#/components/schemas/Id"
"##;
        let error = define(schemas, "Thing").unwrap_err();
        assert!(error.contains("at /components/schemas/Id"), "{error}");
        assert!(
            error.contains("a non-object schema merged into an object"),
            "{error}"
        );
    }
}

//! Implicit discriminators: unions whose alternatives are told apart by a constant property.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::*;

/// A union without a declared discriminator whose alternatives are structs that each
/// have a required single-value enum property of the same name (Box's `type`) is told
/// apart by that property, so an open enum cannot make the wrong alternative match.
pub fn find_implicit_discriminators(api: &mut Api) {
    let mut found: Vec<(String, String, Vec<String>)> = Vec::new();
    for (name, def) in &api.types {
        let TypeKind::Union {
            variants,
            discriminator: None,
            ..
        } = &def.kind
        else {
            continue;
        };
        if let Some((property, values)) = implicit_discriminator(api, variants) {
            found.push((name.clone(), property, values));
        }
    }
    for (name, property, values) in found {
        if let Some(TypeDef {
            kind:
                TypeKind::Union {
                    variants,
                    discriminator,
                    ..
                },
            ..
        }) = api.types.get_mut(&name)
        {
            *discriminator = Some(property);
            for (variant, value) in variants.iter_mut().zip(values) {
                variant.tag = Some(value);
            }
        }
    }
}

/// The property that tells `variants` apart, with each alternative's value: `type` when
/// it does, else the first (by name) that does.
fn implicit_discriminator(api: &Api, variants: &[UnionVariant]) -> Option<(String, Vec<String>)> {
    // Property → the value each alternative so far requires it to have.
    let mut candidates: Option<BTreeMap<String, Vec<String>>> = None;
    for variant in variants {
        let TypeRef::Named(target) = &variant.ty else {
            return None;
        };
        let Some(TypeKind::Struct { fields, .. }) = api.types.get(target).map(|t| &t.kind) else {
            return None;
        };
        let mine: BTreeMap<String, String> = fields
            .iter()
            .filter(|f| f.required)
            .filter_map(|f| Some((f.wire_name.clone(), single_value(api, &f.ty)?)))
            .collect();
        candidates = Some(match candidates {
            None => mine.into_iter().map(|(k, v)| (k, vec![v])).collect(),
            Some(mut so_far) => {
                so_far.retain(|k, _| mine.contains_key(k));
                for (k, values) in so_far.iter_mut() {
                    values.push(mine[k].clone());
                }
                so_far
            }
        });
    }
    let candidates = candidates?;
    let distinct =
        |values: &Vec<String>| values.iter().collect::<BTreeSet<_>>().len() == values.len();
    candidates
        .iter()
        .find(|(k, v)| k.as_str() == "type" && distinct(v))
        .or_else(|| candidates.iter().find(|(_, v)| distinct(v)))
        .map(|(property, values)| (property.clone(), values.clone()))
}

/// The one value of a single-value enum type (named directly, not through an alias).
fn single_value(api: &Api, ty: &TypeRef) -> Option<String> {
    let TypeRef::Named(name) = ty else {
        return None;
    };
    match &api.types.get(name)?.kind {
        TypeKind::Enum { variants } if variants.len() == 1 => Some(variants[0].wire_value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::*;
    use super::*;

    /// A struct `name` with a required `property` whose type is a one-value enum of `value`.
    fn tagged(name: &str, property: &str, value: &str) -> Vec<TypeDef> {
        let tag = format!("{name}{property}");
        vec![
            strukt(
                name,
                vec![
                    field(property, named(&tag), true),
                    field("id", TypeRef::String, true),
                ],
            ),
            enumeration(&tag, &[value]),
        ]
    }

    /// The union `U`'s discriminator and tags after the pass.
    fn run(types: Vec<TypeDef>) -> (Option<String>, Vec<Option<String>>) {
        let mut api = api(types);
        find_implicit_discriminators(&mut api);
        match &api.types["U"].kind {
            TypeKind::Union {
                variants,
                discriminator,
                ..
            } => (
                discriminator.clone(),
                variants.iter().map(|v| v.tag.clone()).collect(),
            ),
            other => panic!("not a union: {other:?}"),
        }
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn a_required_single_value_enum_in_every_alternative_discriminates() {
        let mut types = vec![union("U", vec![named("File"), named("Folder")], None)];
        types.extend(tagged("File", "type", "file"));
        types.extend(tagged("Folder", "type", "folder"));
        assert_eq!(run(types), (Some("type".into()), some(&["file", "folder"])));
    }

    #[test]
    fn an_alternative_without_the_property_leaves_the_union_alone() {
        let mut types = vec![union("U", vec![named("File"), named("Plain")], None)];
        types.extend(tagged("File", "type", "file"));
        types.push(strukt("Plain", vec![field("id", TypeRef::String, true)]));
        assert_eq!(run(types), (None, vec![None, None]));
    }

    #[test]
    fn an_optional_property_does_not_discriminate() {
        let mut types = vec![union("U", vec![named("File"), named("Folder")], None)];
        types.extend(tagged("File", "type", "file"));
        types.extend(tagged("Folder", "type", "folder"));
        let Some(TypeKind::Struct { fields, .. }) = types
            .iter_mut()
            .find(|t| t.name == "Folder")
            .map(|t| &mut t.kind)
        else {
            unreachable!()
        };
        fields[0].required = false;
        assert_eq!(run(types), (None, vec![None, None]));
    }

    #[test]
    fn equal_values_do_not_discriminate() {
        let mut types = vec![union("U", vec![named("File"), named("Folder")], None)];
        types.extend(tagged("File", "type", "file"));
        types.extend(tagged("Folder", "type", "file"));
        assert_eq!(run(types), (None, vec![None, None]));
    }

    #[test]
    fn an_alternative_that_is_not_a_struct_leaves_the_union_alone() {
        let mut types = vec![union("U", vec![named("File"), TypeRef::String], None)];
        types.extend(tagged("File", "type", "file"));
        assert_eq!(run(types), (None, vec![None, None]));
    }

    #[test]
    fn a_multi_value_enum_does_not_discriminate() {
        let mut types = vec![union("U", vec![named("File"), named("Folder")], None)];
        types.extend(tagged("File", "type", "file"));
        types.extend(tagged("Folder", "type", "folder"));
        types.retain(|t| t.name != "Foldertype");
        types.push(enumeration("Foldertype", &["folder", "web_link"]));
        assert_eq!(run(types), (None, vec![None, None]));
    }

    #[test]
    fn type_is_preferred_to_other_properties_and_others_are_taken_by_name() {
        // `kind` sorts before `type`, but `type` wins when both discriminate.
        let both = |name: &str, kind: &str, ty: &str| {
            let mut defs = tagged(name, "type", ty);
            let TypeKind::Struct { fields, .. } = &mut defs[0].kind else {
                unreachable!()
            };
            fields.push(field("kind", named(&format!("{name}kind")), true));
            defs.push(enumeration(&format!("{name}kind"), &[kind]));
            defs
        };
        let mut types = vec![union("U", vec![named("A"), named("B")], None)];
        types.extend(both("A", "ka", "ta"));
        types.extend(both("B", "kb", "tb"));
        assert_eq!(run(types), (Some("type".into()), some(&["ta", "tb"])));

        // When `type` does not tell them apart, `kind` does.
        let mut types = vec![union("U", vec![named("A"), named("B")], None)];
        types.extend(both("A", "ka", "same"));
        types.extend(both("B", "kb", "same"));
        assert_eq!(run(types), (Some("kind".into()), some(&["ka", "kb"])));
    }

    #[test]
    fn a_declared_discriminator_is_kept() {
        let mut types = vec![union(
            "U",
            vec![named("File"), named("Folder")],
            Some("kind"),
        )];
        types.extend(tagged("File", "type", "file"));
        types.extend(tagged("Folder", "type", "folder"));
        assert_eq!(run(types), (Some("kind".into()), vec![None, None]));
    }
}

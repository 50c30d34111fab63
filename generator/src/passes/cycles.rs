//! Cycles: boxing the struct fields through which a type would contain itself.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::*;

/// Boxes struct fields that would otherwise make a type contain itself.
///
/// Only a field whose type is a named type directly can do that: lists and maps
/// (`Vec`, `Map`, and the `Option` of a nullable item inside them) already hold
/// their values on the heap. A type "contains" the named types of its struct
/// fields, its union alternatives and its alias target.
pub fn box_cycles(api: &mut Api) {
    let edges = containment(api);
    let reaches = |from: &str, to: &str| -> bool {
        let mut stack = vec![from.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(node) = stack.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node.clone()) {
                stack.extend(edges.get(&node).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut to_box = Vec::new();
    for (name, def) in &api.types {
        if let TypeKind::Struct { fields, .. } = &def.kind {
            for (i, field) in fields.iter().enumerate() {
                if let Some(target) = direct(&field.ty)
                    && reaches(target, name)
                {
                    to_box.push((name.clone(), i));
                }
            }
        }
    }
    for (name, i) in to_box {
        if let Some(TypeDef {
            kind: TypeKind::Struct { fields, .. },
            ..
        }) = api.types.get_mut(&name)
        {
            fields[i].boxed = true;
        }
    }
}

/// The named type a type directly is, if it is one.
fn direct(ty: &TypeRef) -> Option<&str> {
    match ty {
        TypeRef::Named(n) => Some(n),
        _ => None,
    }
}

/// Type name → the named types it directly contains.
fn containment(api: &Api) -> BTreeMap<String, Vec<String>> {
    api.types
        .iter()
        .map(|(name, def)| {
            let targets = match &def.kind {
                TypeKind::Struct { fields, .. } => fields
                    .iter()
                    .filter_map(|f| direct(&f.ty))
                    .map(str::to_owned)
                    .collect(),
                TypeKind::Union { variants, .. } => variants
                    .iter()
                    .filter_map(|v| direct(&v.ty))
                    .map(str::to_owned)
                    .collect(),
                TypeKind::Alias(ty) => direct(ty).into_iter().map(str::to_owned).collect(),
                TypeKind::Enum { .. } => Vec::new(),
            };
            (name.clone(), targets)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::build::*;
    use super::*;

    /// Which fields of struct `name` are boxed after the pass, by field name.
    fn boxed(api: &Api, name: &str) -> Vec<String> {
        match &api.types[name].kind {
            TypeKind::Struct { fields, .. } => fields
                .iter()
                .filter(|f| f.boxed)
                .map(|f| f.rust_name.clone())
                .collect(),
            other => panic!("not a struct: {other:?}"),
        }
    }

    fn run(types: Vec<TypeDef>) -> Api {
        let mut api = api(types);
        box_cycles(&mut api);
        api
    }

    #[test]
    fn a_self_referential_field_is_boxed_whether_required_or_not() {
        let api = run(vec![strukt(
            "Node",
            vec![
                field("name", TypeRef::String, true),
                field("parent", named("Node"), false),
                field("twin", named("Node"), true),
            ],
        )]);
        assert_eq!(boxed(&api, "Node"), ["parent", "twin"]);
    }

    #[test]
    fn lists_and_maps_need_no_box() {
        let node = || named("Node");
        let api = run(vec![strukt(
            "Node",
            vec![
                field("children", TypeRef::Vec(Box::new(node())), true),
                field(
                    "maybe",
                    TypeRef::Vec(Box::new(TypeRef::Option(Box::new(node())))),
                    false,
                ),
                field("by_name", TypeRef::Map(Box::new(node())), true),
            ],
        )]);
        assert!(boxed(&api, "Node").is_empty());
    }

    #[test]
    fn every_field_on_a_cycle_of_structs_is_boxed() {
        let api = run(vec![
            strukt("A", vec![field("b", named("B"), false)]),
            strukt("B", vec![field("a", named("A"), false)]),
        ]);
        assert_eq!(boxed(&api, "A"), ["b"]);
        assert_eq!(boxed(&api, "B"), ["a"]);
    }

    #[test]
    fn cycles_through_unions_and_aliases_are_found() {
        let api = run(vec![
            strukt("Item", vec![field("parent", named("Parent"), false)]),
            alias("Parent", named("Entry")),
            union("Entry", vec![named("Item"), TypeRef::String], None),
        ]);
        assert_eq!(boxed(&api, "Item"), ["parent"]);
    }

    #[test]
    fn a_field_that_only_leads_to_a_cycle_elsewhere_is_not_boxed() {
        let api = run(vec![
            strukt("Holder", vec![field("node", named("Node"), true)]),
            strukt("Node", vec![field("next", named("Node"), false)]),
        ]);
        assert!(boxed(&api, "Holder").is_empty());
        assert_eq!(boxed(&api, "Node"), ["next"]);
    }

    #[test]
    fn a_list_in_the_cycle_breaks_it() {
        let api = run(vec![
            strukt("A", vec![field("b", named("B"), true)]),
            strukt(
                "B",
                vec![field("all", TypeRef::Vec(Box::new(named("A"))), true)],
            ),
        ]);
        assert!(boxed(&api, "A").is_empty());
        assert!(boxed(&api, "B").is_empty());
    }
}

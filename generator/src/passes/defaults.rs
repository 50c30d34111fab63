//! Defaults: which structs can derive `Default`.

use crate::ir::*;

/// Marks structs whose fields all have defaults (least fixpoint, so cycles stay `false`).
pub fn derive_defaults(api: &mut Api) {
    loop {
        let mut changed = Vec::new();
        for (name, def) in &api.types {
            if let TypeKind::Struct {
                fields,
                default: false,
                ..
            } = &def.kind
                && fields
                    .iter()
                    .all(|f| f.is_option() || has_default(api, &f.ty))
            {
                changed.push(name.clone());
            }
        }
        if changed.is_empty() {
            return;
        }
        for name in changed {
            if let Some(TypeDef {
                kind: TypeKind::Struct { default, .. },
                ..
            }) = api.types.get_mut(&name)
            {
                *default = true;
            }
        }
    }
}

/// Whether a value of `ty` has a default: dates have none, nor do enums and unions
/// (no value is the obvious one); a named struct has one once it is marked.
fn has_default(api: &Api, ty: &TypeRef) -> bool {
    match ty {
        TypeRef::DateTime | TypeRef::Date => false,
        TypeRef::Named(name) => match api.types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Struct { default, .. }) => *default,
            Some(TypeKind::Alias(inner)) => has_default(api, inner),
            _ => false,
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::*;
    use super::*;

    /// The names of the structs that derive `Default` after the pass.
    fn defaulted(types: Vec<TypeDef>) -> Vec<String> {
        let mut api = api(types);
        derive_defaults(&mut api);
        api.types
            .values()
            .filter(|t| matches!(t.kind, TypeKind::Struct { default: true, .. }))
            .map(|t| t.name.clone())
            .collect()
    }

    #[test]
    fn a_struct_whose_fields_all_have_defaults_derives_default() {
        let types = vec![strukt(
            "S",
            vec![
                field("name", TypeRef::String, true),
                field("count", TypeRef::I64, true),
                field("tags", TypeRef::Vec(Box::new(TypeRef::DateTime)), true),
                field("at", TypeRef::DateTime, false),
            ],
        )];
        assert_eq!(defaulted(types), ["S"]);
    }

    #[test]
    fn a_required_field_without_a_default_prevents_it() {
        let date = strukt("D", vec![field("at", TypeRef::Date, true)]);
        let e = strukt("E", vec![field("kind", named("Kind"), true)]);
        let kind = enumeration("Kind", &["a", "b"]);
        assert!(defaulted(vec![date, e, kind]).is_empty());
    }

    #[test]
    fn a_nullable_required_field_is_an_option_and_defaults_to_none() {
        let mut at = field("at", TypeRef::DateTime, true);
        at.nullable = true;
        assert_eq!(defaulted(vec![strukt("S", vec![at])]), ["S"]);
    }

    #[test]
    fn structs_default_through_other_structs_and_aliases_in_any_order() {
        // `A` is checked before `C` is marked; the fixpoint comes back for it.
        let types = vec![
            strukt("A", vec![field("b", named("B"), true)]),
            alias("B", named("C")),
            strukt("C", vec![field("s", TypeRef::String, true)]),
        ];
        assert_eq!(defaulted(types), ["A", "C"]);
    }

    #[test]
    fn a_cycle_of_required_structs_stays_without_default() {
        let types = vec![
            strukt("A", vec![field("b", named("B"), true)]),
            strukt("B", vec![field("a", named("A"), true)]),
        ];
        assert!(defaulted(types).is_empty());
    }
}

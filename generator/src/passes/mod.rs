//! IR passes: whole-API rewrites that need every type defined first.
//!
//! Each reads and rewrites only [`ir`](crate::ir), never `openapiv3`: lowering builds the
//! types one by one, and these then decide what depends on all of them at once.

mod cycles;
mod defaults;
mod discriminators;
mod unknown_fields;
mod usage;

pub use cycles::box_cycles;
pub use defaults::derive_defaults;
pub use discriminators::find_implicit_discriminators;
pub use unknown_fields::keep_unknown_fields;
pub use usage::mark_usage;

use crate::ir::Api;

/// Runs every pass, in the order they depend on each other: discriminators first
/// (they only tag unions), then cycles, then defaults; usage before the maps of
/// unknown fields, which only structs read from responses get.
pub fn run(api: &mut Api) {
    find_implicit_discriminators(api);
    box_cycles(api);
    derive_defaults(api);
    mark_usage(api);
    keep_unknown_fields(api);
}

/// Small hand-built APIs for the tests of the passes and of emit.
#[cfg(test)]
pub(crate) mod build {
    use crate::ir::*;

    /// An API holding just `types`.
    pub fn api(types: Vec<TypeDef>) -> Api {
        Api {
            title: "Test".into(),
            version: "1".into(),
            docs: None,
            servers: Default::default(),
            trusted_hosts: Vec::new(),
            operations: Vec::new(),
            types: types.into_iter().map(|t| (t.name.clone(), t)).collect(),
            default_error: None,
            keep_unknown_fields: false,
        }
    }

    fn def(name: &str, kind: TypeKind) -> TypeDef {
        TypeDef {
            name: name.into(),
            docs: None,
            kind,
            pointer: format!("/components/schemas/{name}"),
            usage: Usage::default(),
        }
    }

    /// A struct with `fields`, not yet boxed or defaulted.
    pub fn strukt(name: &str, fields: Vec<Field>) -> TypeDef {
        def(
            name,
            TypeKind::Struct {
                fields,
                additional: None,
                default: false,
                unknown_fields: None,
            },
        )
    }

    /// A non-nullable field.
    pub fn field(name: &str, ty: TypeRef, required: bool) -> Field {
        Field {
            rust_name: name.into(),
            wire_name: name.into(),
            ty,
            required,
            nullable: false,
            boxed: false,
            docs: None,
            pointer: format!("/properties/{name}"),
        }
    }

    /// An open enum of `values`.
    pub fn enumeration(name: &str, values: &[&str]) -> TypeDef {
        let variants = values
            .iter()
            .map(|v| EnumVariant {
                rust_name: v.to_string(),
                wire_value: v.to_string(),
            })
            .collect();
        def(name, TypeKind::Enum { variants })
    }

    /// A union of `alternatives` (variant names are the types' names).
    pub fn union(name: &str, alternatives: Vec<TypeRef>, discriminator: Option<&str>) -> TypeDef {
        let variants = alternatives
            .into_iter()
            .map(|ty| UnionVariant {
                rust_name: format!("{ty:?}"),
                ty,
                tag: None,
            })
            .collect();
        def(
            name,
            TypeKind::Union {
                variants,
                discriminator: discriminator.map(str::to_owned),
                text: false,
            },
        )
    }

    /// `pub type name = ty;`
    pub fn alias(name: &str, ty: TypeRef) -> TypeDef {
        def(name, TypeKind::Alias(ty))
    }

    /// `TypeRef::Named(name)`.
    pub fn named(name: &str) -> TypeRef {
        TypeRef::Named(name.into())
    }
}

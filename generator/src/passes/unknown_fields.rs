//! Unknown fields: with `keep_unknown_fields`, each struct read from responses gets a
//! flattened map that keeps the members the spec does not list, so a field the API
//! adds later survives a decode and a re-encode instead of being dropped.

use crate::ir::*;
use crate::naming::Namespace;

/// The name the map takes unless a field has it already.
const NAME: &str = "unknown_fields";

/// Names the unknown-fields map of every struct read from responses (needs
/// [`mark_usage`](super::mark_usage) first). A struct that already keeps unlisted
/// members (`additionalProperties`) needs none: its map takes them.
pub fn keep_unknown_fields(api: &mut Api) {
    if !api.keep_unknown_fields {
        return;
    }
    for def in api.types.values_mut() {
        if !def.usage.response {
            continue;
        }
        if let TypeKind::Struct {
            fields,
            additional: None,
            unknown_fields,
            ..
        } = &mut def.kind
        {
            let mut names = Namespace::default();
            for field in fields.iter() {
                names.claim(&field.rust_name);
            }
            *unknown_fields = Some(names.claim(NAME));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::*;
    use super::*;

    fn map_name(api: &Api, name: &str) -> Option<String> {
        match &api.types[name].kind {
            TypeKind::Struct { unknown_fields, .. } => unknown_fields.clone(),
            _ => panic!("{name} is not a struct"),
        }
    }

    fn read(mut def: TypeDef, request: bool) -> TypeDef {
        def.usage = Usage {
            request,
            response: true,
        };
        def
    }

    #[test]
    fn structs_read_from_responses_get_a_map_whose_name_is_free() {
        let mut extra = read(strukt("Extra", vec![]), false);
        if let TypeKind::Struct { additional, .. } = &mut extra.kind {
            *additional = Some(TypeRef::Json);
        }
        let types = vec![
            read(
                strukt("File", vec![field("id", TypeRef::String, true)]),
                false,
            ),
            read(
                strukt(
                    "Clash",
                    vec![field("unknown_fields", TypeRef::String, false)],
                ),
                true,
            ),
            strukt("Sent", vec![field("id", TypeRef::String, true)]),
            extra,
        ];
        let mut off = api(types.clone());
        keep_unknown_fields(&mut off);
        assert_eq!(map_name(&off, "File"), None, "off unless the config asks");

        let mut on = api(types);
        on.keep_unknown_fields = true;
        keep_unknown_fields(&mut on);
        assert_eq!(map_name(&on, "File").as_deref(), Some("unknown_fields"));
        assert_eq!(map_name(&on, "Clash").as_deref(), Some("unknown_fields2"));
        assert_eq!(map_name(&on, "Sent"), None, "only sent, never read");
        assert_eq!(
            map_name(&on, "Extra"),
            None,
            "additional_properties keeps them"
        );
    }
}

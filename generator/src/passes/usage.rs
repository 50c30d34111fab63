//! Usage: which types users build (parameters, request bodies) and which they only
//! read (responses, error bodies, response headers). Emit makes read-only structs
//! `#[non_exhaustive]`, and the API report judges a change by it.

use std::collections::BTreeSet;

use crate::ir::*;

/// Marks each type with where the operations use it, directly or inside another type.
pub fn mark_usage(api: &mut Api) {
    let mut sent = Vec::new();
    let mut read = Vec::new();
    for op in &api.operations {
        for param in op
            .path_params
            .iter()
            .chain(&op.query_params)
            .chain(&op.header_params)
        {
            sent.push(&param.ty);
        }
        match op.body.as_ref().map(|body| &body.kind) {
            Some(BodyKind::Json(ty) | BodyKind::Form { ty, .. }) => sent.push(ty),
            Some(BodyKind::Multipart { parts }) => {
                sent.extend(parts.iter().filter_map(|part| match &part.encoding {
                    PartEncoding::Json { ty, .. } | PartEncoding::Text { ty, .. } => Some(ty),
                    PartEncoding::Binary { .. } => None,
                }));
            }
            Some(BodyKind::Bytes) | None => {}
        }
        for outcome in &op.outcomes {
            if let OutcomeBody::Json(ty) = &outcome.body {
                read.push(ty);
            }
            read.extend(outcome.headers.iter().map(|h| &h.ty));
        }
        read.push(&op.error);
    }
    read.extend(&api.default_error);
    let sent = reachable(api, sent);
    let read = reachable(api, read);
    for (name, def) in &mut api.types {
        let (request, response) = (sent.contains(name), read.contains(name));
        // A type no operation reaches is one users decode themselves (an error body
        // the operation leaves as JSON because it has several, such as Box's
        // `ConflictError`; an `allOf` base): read-only, so it keeps unknown fields.
        def.usage = Usage {
            request,
            response: response || !request,
        };
    }
}

/// The named types `roots` refer to, and every named type those contain.
fn reachable(api: &Api, roots: Vec<&TypeRef>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&TypeRef> = roots;
    while let Some(ty) = stack.pop() {
        match ty {
            TypeRef::Named(name) => {
                if !seen.insert(name.clone()) {
                    continue;
                }
                match api.types.get(name).map(|def| &def.kind) {
                    Some(TypeKind::Struct {
                        fields, additional, ..
                    }) => {
                        stack.extend(fields.iter().map(|f| &f.ty));
                        stack.extend(additional);
                    }
                    Some(TypeKind::Union { variants, .. }) => {
                        stack.extend(variants.iter().map(|v| &v.ty));
                    }
                    Some(TypeKind::Alias(target)) => stack.push(target),
                    Some(TypeKind::Enum { .. }) | None => {}
                }
            }
            TypeRef::Vec(inner) | TypeRef::Map(inner) | TypeRef::Option(inner) => stack.push(inner),
            _ => {}
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::super::build::*;
    use super::*;

    fn usage(api: &Api, name: &str) -> (bool, bool) {
        let usage = api.types[name].usage;
        (usage.request, usage.response)
    }

    #[test]
    fn a_type_no_operation_reaches_is_read_only() {
        let mut api = api(vec![strukt(
            "Conflict",
            vec![field("id", TypeRef::String, true)],
        )]);
        mark_usage(&mut api);
        assert_eq!(usage(&api, "Conflict"), (false, true));
    }

    #[test]
    fn types_are_marked_by_the_side_of_the_call_that_reaches_them() {
        let mut api = api(vec![
            strukt("Body", vec![field("part", named("Part"), true)]),
            strukt("Part", vec![field("id", TypeRef::String, true)]),
            strukt(
                "Answer",
                vec![field("parts", TypeRef::Vec(Box::new(named("Part"))), false)],
            ),
            alias("Items", TypeRef::Map(Box::new(named("Answer")))),
            strukt("Problem", vec![field("code", named("Code"), false)]),
            enumeration("Code", &["gone"]),
            enumeration("Unused", &["x"]),
        ]);
        let mut op = crate::emit::build::operation("create", "POST", "/things");
        op.body = Some(RequestBody {
            media_type: "application/json".into(),
            kind: BodyKind::Json(named("Body")),
            required: true,
            docs: None,
        });
        op.outcomes[0].body = OutcomeBody::Json(named("Items"));
        op.error = named("Problem");
        api.operations.push(op);
        mark_usage(&mut api);

        assert_eq!(usage(&api, "Body"), (true, false));
        assert_eq!(
            usage(&api, "Part"),
            (true, true),
            "sent in Body, read in Answer"
        );
        assert_eq!(
            usage(&api, "Answer"),
            (false, true),
            "through the alias's map"
        );
        assert_eq!(usage(&api, "Items"), (false, true));
        assert_eq!(
            usage(&api, "Problem"),
            (false, true),
            "an error body is read"
        );
        assert_eq!(usage(&api, "Code"), (false, true));
        assert_eq!(
            usage(&api, "Unused"),
            (false, true),
            "reached by none: read"
        );
        assert!(api.types["Answer"].usage.read_only());
        assert!(!api.types["Part"].usage.read_only());
    }
}

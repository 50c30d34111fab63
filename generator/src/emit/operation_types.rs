//! The types of one operation, emitted in `client.rs` beside its method: the request
//! struct (query and header parameters, the body) and the response enum (one variant
//! per success outcome, with its body and headers).

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::{docs, shown};
use super::{ident, type_tokens};
use crate::ir::{
    BodyKind, Operation, Outcome, OutcomeBody, Param, Part, PartEncoding, RequestBody,
};

/// The request struct and response enum of an operation, those it has.
pub(super) fn emit_operation_types(op: &Operation) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(request_type) = &op.request_type {
        out.extend(emit_request_struct(op, request_type));
    }
    if let Some(response_type) = &op.response_type {
        out.extend(emit_response_enum(op, response_type));
    }
    out
}

/// The inputs of an operation other than its path parameters.
fn emit_request_struct(op: &Operation, request_type: &str) -> TokenStream {
    let name = ident(request_type);
    let doc = format!(" Inputs of [`Client::{}`].", op.method_name);
    let params = op
        .query_params
        .iter()
        .chain(&op.header_params)
        .map(request_param);
    let body = op.body.as_ref().map(request_body);
    quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub struct #name {
            #( #params )*
            #body
        }
    }
}

/// The field of a query or header parameter.
fn request_param(p: &Param) -> TokenStream {
    let doc = docs(p.docs.as_deref());
    let field = ident(&p.rust_name);
    let ty = type_tokens(&p.ty);
    let ty = if p.required {
        ty
    } else {
        quote! { Option<#ty> }
    };
    quote! { #doc pub #field: #ty, }
}

/// The body's fields: `body` (its type, or a `Body` of bytes), or one per multipart part.
fn request_body(body: &RequestBody) -> TokenStream {
    let mut text = body.docs.clone().unwrap_or_default();
    let ty = match &body.kind {
        BodyKind::Json(ty) | BodyKind::Form { ty, .. } => type_tokens(ty),
        BodyKind::Multipart { parts } => return parts.iter().map(part_field).collect(),
        BodyKind::Bytes => {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&format!(
                "Sent as `{}`, as it is: owned bytes (`Bytes`, `Vec<u8>`, no copy), a file (`Body::from_path`) or a stream (`Body::from_stream`).",
                body.media_type
            ));
            quote! { ::oas_runtime::Body }
        }
    };
    let doc = docs(Some(&text).filter(|t| !t.is_empty()).map(String::as_str));
    let ty = if body.required {
        ty
    } else {
        quote! { Option<#ty> }
    };
    quote! { #doc pub body: #ty, }
}

/// The field of a multipart part: its value, or for a file an `oas_runtime::FilePart`.
fn part_field(part: &Part) -> TokenStream {
    let mut text = part
        .docs
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    let wire = shown(&part.wire_name);
    let ty = match &part.encoding {
        PartEncoding::Json { ty, content_type } => {
            text.push_str(&format!(
                "The `{wire}` part, as JSON (`{}`).",
                shown(content_type)
            ));
            type_tokens(ty)
        }
        PartEncoding::Text { ty, list, .. } => {
            text.push_str(&if *list {
                format!("The `{wire}` parts, one per item, as text.")
            } else {
                format!("The `{wire}` part, as text.")
            });
            type_tokens(ty)
        }
        PartEncoding::Binary { content_type } => {
            text.push_str(&format!(
                "The `{wire}` part: a file (bytes, a path or a stream, with a file name), sent as `{}` unless it names its own content type.",
                shown(content_type)
            ));
            quote! { ::oas_runtime::FilePart }
        }
    };
    let doc = docs(Some(&text));
    let field = ident(&part.rust_name);
    let ty = if part.required {
        ty
    } else {
        quote! { Option<#ty> }
    };
    quote! { #doc pub #field: #ty, }
}

/// The outcomes of an operation, one variant per success status.
fn emit_response_enum(op: &Operation, response_type: &str) -> TokenStream {
    let name = ident(response_type);
    let doc = format!(" The outcomes of [`Client::{}`].", op.method_name);
    let variants = op.outcomes.iter().map(response_variant);
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name {
            #( #variants )*
        }
    }
}

/// The variant of one outcome: a tuple of its body, or, when the outcome has headers,
/// a struct of its body and headers.
fn response_variant(outcome: &Outcome) -> TokenStream {
    let variant = ident(&outcome.variant);
    let mut text = format!("`{}`", outcome.status);
    if let Some(d) = &outcome.docs {
        text = format!("{text}: {}", d.trim());
    }
    let doc = docs(Some(&text));
    let body = match &outcome.body {
        OutcomeBody::Empty => None,
        OutcomeBody::Json(ty) => Some(type_tokens(ty)),
        OutcomeBody::Bytes => Some(quote! { ::oas_runtime::Bytes }),
        OutcomeBody::Raw => Some(quote! { ::oas_runtime::RawResponse }),
    };
    if outcome.headers.is_empty() && !outcome.carries_status() {
        return match body {
            Some(body) => quote! { #doc #variant(#body), },
            None => quote! { #doc #variant, },
        };
    }
    let headers = outcome.headers.iter().map(|h| {
        let field = ident(&h.rust_name);
        let ty = type_tokens(&h.ty);
        let mut text = format!("The `{}` header.", h.wire_name);
        if let Some(d) = &h.docs {
            text = format!("{text} {}", d.trim());
        }
        let doc = docs(Some(&text));
        quote! { #doc #field: Option<#ty>, }
    });
    let body = body.map(|b| {
        quote! { /// The body.
        body: #b, }
    });
    let status = outcome.carries_status().then(|| {
        quote! { /// The status the server answered with.
        status: ::oas_runtime::StatusCode, }
    });
    quote! { #doc #variant { #status #body #( #headers )* }, }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::build::*;
    use crate::ir::TypeRef;
    use quote::ToTokens;

    /// The items of `tokens`, parsed.
    fn items(tokens: TokenStream) -> Vec<syn::Item> {
        syn::parse2::<syn::File>(tokens).unwrap().items
    }

    /// `name: type` of each named field.
    fn fields(fields: &syn::Fields) -> Vec<String> {
        fields
            .iter()
            .map(|f| {
                let name = f.ident.as_ref().unwrap();
                let ty = f.ty.to_token_stream().to_string().replace(' ', "");
                format!("{name}: {ty}")
            })
            .collect()
    }

    #[test]
    fn the_request_struct_holds_query_and_header_parameters_and_the_body() {
        let mut op = operation("upload", "POST", "/files");
        op.query_params = vec![param("limit", "limit", TypeRef::I32, false)];
        op.header_params = vec![param("digest", "digest", TypeRef::String, true)];
        op.body = Some(RequestBody {
            media_type: "application/octet-stream".into(),
            kind: BodyKind::Bytes,
            required: true,
            docs: None,
        });
        op.request_type = Some("UploadRequest".into());
        let [syn::Item::Struct(request)] = &items(emit_operation_types(&op))[..] else {
            panic!("not one struct");
        };
        assert_eq!(request.ident, "UploadRequest");
        assert_eq!(
            fields(&request.fields),
            [
                "limit: Option<i32>",
                "digest: String",
                "body: ::oas_runtime::Body"
            ]
        );
    }

    #[test]
    fn a_multipart_body_is_a_field_per_part_in_order_after_the_parameters() {
        let mut op = operation("upload", "POST", "/files");
        op.header_params = vec![param("if_match", "if-match", TypeRef::String, false)];
        let parts = vec![
            part(
                "attributes",
                true,
                PartEncoding::Json {
                    ty: named("Attributes"),
                    content_type: "application/json".into(),
                },
            ),
            part(
                "tags",
                false,
                PartEncoding::Text {
                    ty: TypeRef::Vec(Box::new(TypeRef::String)),
                    list: true,
                    content_type: None,
                },
            ),
            part(
                "file",
                true,
                PartEncoding::Binary {
                    content_type: "application/octet-stream".into(),
                },
            ),
        ];
        op.body = Some(RequestBody {
            media_type: "multipart/form-data".into(),
            kind: BodyKind::Multipart { parts },
            required: false,
            docs: None,
        });
        op.request_type = Some("UploadRequest".into());
        let [syn::Item::Struct(request)] = &items(emit_operation_types(&op))[..] else {
            panic!("not one struct");
        };
        assert_eq!(
            fields(&request.fields),
            [
                "if_match: Option<String>",
                "attributes: Attributes",
                "tags: Option<Vec<String>>",
                "file: ::oas_runtime::FilePart"
            ]
        );
    }

    #[test]
    fn the_response_enum_has_a_variant_per_outcome_with_its_body_and_headers() {
        let mut op = operation("create_file", "POST", "/files");
        let mut created = outcome(201, "Created", OutcomeBody::Json(named("File")));
        created.headers = vec![response_header("etag", "ETag")];
        let download = outcome(200, "Ok", OutcomeBody::Bytes);
        op.outcomes = vec![
            download,
            created,
            outcome(204, "NoContent", OutcomeBody::Empty),
        ];
        op.response_type = Some("CreateFileResponse".into());
        let [syn::Item::Enum(response)] = &items(emit_operation_types(&op))[..] else {
            panic!("not one enum");
        };
        assert_eq!(response.ident, "CreateFileResponse");
        let variants: Vec<(String, Vec<String>)> = response
            .variants
            .iter()
            .map(|v| {
                let fields = match &v.fields {
                    syn::Fields::Named(_) => fields(&v.fields),
                    other => other
                        .iter()
                        .map(|f| f.ty.to_token_stream().to_string().replace(' ', ""))
                        .collect(),
                };
                (v.ident.to_string(), fields)
            })
            .collect();
        let expected = [
            ("Ok", vec!["::oas_runtime::Bytes"]),
            ("Created", vec!["body: File", "etag: Option<String>"]),
            ("NoContent", vec![]),
        ]
        .map(|(name, fields)| {
            (
                name.to_owned(),
                fields.into_iter().map(String::from).collect(),
            )
        });
        assert_eq!(variants, expected);
    }

    #[test]
    fn an_operation_without_request_or_response_types_has_no_items() {
        assert!(emit_operation_types(&operation("get", "GET", "/")).is_empty());
    }
}

//! The body of an operation's method, one phase of the call at a time: the path with
//! its parameters encoded (for the URL), then the request (query, headers, body), the
//! send, and the decoding of each success status into the operation's outcome.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::ident;
use crate::ir::{
    BodyKind, Operation, Outcome, OutcomeBody, Param, Part, PartEncoding, RequestBody, TypeRef,
};
use crate::naming::shouty;

/// The encoded path: the template with each parameter percent-encoded as one segment.
pub(super) fn path_expression(op: &Operation) -> TokenStream {
    if op.path_params.is_empty() {
        let path = &op.path;
        return quote! { #path };
    }
    let mut format = String::new();
    let mut rest = op.path.as_str();
    let mut args = Vec::new();
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap_or(rest.len() - start);
        format.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        format.push_str("{}");
        let wire = &rest[start + 1..end];
        let param = op.path_params.iter().find(|p| p.wire_name == wire);
        let name = ident(param.map_or(wire, |p| p.rust_name.as_str()));
        args.push(match param.map(|p| &p.ty) {
            Some(TypeRef::String) => quote! { ::oas_runtime::path_segment(#wire, #name)? },
            _ => quote! { ::oas_runtime::path_segment(#wire, &#name.to_string())? },
        });
        rest = &rest[(end + 1).min(rest.len())..];
    }
    format.push_str(&rest.replace('{', "{{").replace('}', "}}"));
    let format = Literal::string(&format);
    quote! { &format!(#format, #( #args ),*) }
}

/// Builds the request to `url`, sends it, and decodes the outcome.
pub(super) fn emit_send(op: &Operation) -> TokenStream {
    let op_static = format_ident!("{}", shouty(&op.method_name));
    let method = format_ident!("{}", op.http_method);
    let queries = op.query_params.iter().map(add_query);
    let headers = op.header_params.iter().map(add_header);
    let body = op.body.as_ref().map(|body| attach_body(op, body));
    let arms = op
        .outcomes
        .iter()
        .map(|outcome| decode_outcome(op, outcome));
    let http_mut =
        (!op.query_params.is_empty() || !op.header_params.is_empty() || op.body.is_some())
            .then(|| quote! { mut });
    quote! {
        let #http_mut http = ::oas_runtime::Request::new(::oas_runtime::Method::#method, url);
        #( #queries )*
        #( #headers )*
        #body
        let response = self.runtime.execute(&operations::#op_static, http).await?;
        match response.status().as_u16() {
            #( #arms )*
            _ => Err(response.into_error()),
        }
    }
}

/// Adds a query parameter from the request struct (when set): as JSON text, as the
/// name repeated per item, as items joined by commas, or as its text.
fn add_query(p: &Param) -> TokenStream {
    let wire = &p.wire_name;
    let field = ident(&p.rust_name);
    let add = |value: TokenStream| match &p.ty {
        _ if p.json => quote! { http.query_json(#wire, #value)?; },
        TypeRef::Vec(_) if p.explode => quote! {
            for item in #value { http.query(#wire, item); }
        },
        TypeRef::Vec(_) => quote! {
            http.query(#wire, #value.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
        },
        _ => quote! { http.query(#wire, #value); },
    };
    if p.required {
        add(quote! { &request.#field })
    } else {
        let inner = add(quote! { value });
        quote! { if let Some(value) = &request.#field { #inner } }
    }
}

/// Adds a header parameter from the request struct (when set), as its text.
fn add_header(p: &Param) -> TokenStream {
    let wire = &p.wire_name;
    let field = ident(&p.rust_name);
    let is_string = p.ty == TypeRef::String;
    if p.required {
        let value = if is_string {
            quote! { &request.#field }
        } else {
            quote! { &request.#field.to_string() }
        };
        quote! { http.header(#wire, #value)?; }
    } else {
        let value = if is_string {
            quote! { value }
        } else {
            quote! { &value.to_string() }
        };
        quote! { if let Some(value) = &request.#field { http.header(#wire, #value)?; } }
    }
}

/// Attaches the body (when set), from the request struct or the method's `body`
/// argument: JSON, a form, multipart parts, or bytes sent as they are under the body's
/// media type.
fn attach_body(op: &Operation, body: &RequestBody) -> TokenStream {
    let media = &body.media_type;
    let has_request = op.request_type.is_some();
    let source = if has_request {
        quote! { request.body }
    } else {
        quote! { body }
    };
    match &body.kind {
        BodyKind::Json(_) | BodyKind::Form { .. } => {
            let (set, default_media) = match &body.kind {
                BodyKind::Json(_) => (quote! { json }, "application/json"),
                _ => (quote! { form }, "application/x-www-form-urlencoded"),
            };
            // `json` and `form` set their media type; another one (`…+json`, a
            // charset) replaces it.
            let media =
                (media != default_media).then(|| quote! { http.header("content-type", #media)?; });
            match (body.required, has_request) {
                (true, true) => quote! { http.#set(&#source)?; #media },
                (true, false) => quote! { http.#set(#source)?; #media },
                (false, true) => {
                    quote! { if let Some(body) = &#source { http.#set(body)?; #media } }
                }
                (false, false) => {
                    quote! { if let Some(body) = #source { http.#set(body)?; #media } }
                }
            }
        }
        // The runtime sets `multipart/form-data` with the boundary it chose.
        BodyKind::Multipart { parts } => {
            let parts = parts.iter().map(add_part);
            quote! {
                let mut form = ::oas_runtime::Multipart::new();
                #( #parts )*
                http.multipart(form)?;
            }
        }
        BodyKind::Bytes => {
            let set = quote! { http.body(body, #media); };
            if body.required {
                quote! { let body = #source; #set }
            } else {
                quote! { if let Some(body) = #source { #set } }
            }
        }
    }
}

/// Adds one part from the request struct (when set): JSON, text (a part per item
/// of a list) or a file, moved out of the request.
fn add_part(part: &Part) -> TokenStream {
    let wire = &part.wire_name;
    let field = ident(&part.rust_name);
    let add = |value: TokenStream| match &part.encoding {
        PartEncoding::Json { content_type, .. } => {
            quote! { form.json(#wire, #value, #content_type)?; }
        }
        PartEncoding::Text {
            list, content_type, ..
        } => {
            let content_type = match content_type {
                Some(ct) => quote! { Some(#ct) },
                None => quote! { None },
            };
            if *list {
                quote! { for item in #value { form.text(#wire, item, #content_type)?; } }
            } else {
                quote! { form.text(#wire, #value, #content_type)?; }
            }
        }
        PartEncoding::Binary { content_type } => {
            quote! { form.file(#wire, #value, #content_type); }
        }
    };
    let file = matches!(part.encoding, PartEncoding::Binary { .. });
    match (part.required, file) {
        (true, true) => add(quote! { request.#field }),
        (true, false) => add(quote! { &request.#field }),
        (false, true) => {
            let inner = add(quote! { value });
            quote! { if let Some(value) = request.#field { #inner } }
        }
        (false, false) => {
            let inner = add(quote! { value });
            quote! { if let Some(value) = &request.#field { #inner } }
        }
    }
}

/// The match arm of one success status: its body decoded (JSON or bytes), and its
/// headers parsed when the outcome has some, as the method's result.
fn decode_outcome(op: &Operation, outcome: &Outcome) -> TokenStream {
    let status = Literal::u16_unsuffixed(outcome.status);
    let decode = match &outcome.body {
        OutcomeBody::Empty => None,
        OutcomeBody::Json(_) => Some(quote! { response.json()? }),
        OutcomeBody::Bytes => Some(quote! { response.body().clone() }),
    };
    let value = match &op.response_type {
        None => decode.unwrap_or_else(|| quote! { () }),
        Some(t) => {
            let t = ident(t);
            let variant = ident(&outcome.variant);
            if outcome.headers.is_empty() {
                match decode {
                    Some(d) => quote! { #t::#variant(#d) },
                    None => quote! { #t::#variant },
                }
            } else {
                let body = decode.map(|d| quote! { body: #d, });
                // The runtime reads headers leniently (a value that does not parse is
                // `None`): a header is never worth turning a success, such as a 202 in
                // progress, into an error. It knows HTTP's own headers, such as Retry-After.
                let headers = outcome.headers.iter().map(|h| {
                    let field = ident(&h.rust_name);
                    let wire = &h.wire_name;
                    quote! { #field: ::oas_runtime::header::decode(response.headers(), #wire), }
                });
                quote! { #t::#variant { #body #( #headers )* } }
            }
        }
    };
    quote! { #status => Ok(#value), }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::build::*;

    #[test]
    fn path_parameters_are_encoded_as_segments_and_literal_braces_escaped() {
        let mut op = operation("get_item", "GET", "/folders/{folder-id}/items/{index}.json");
        assert_tokens(
            path_expression(&op),
            quote! { "/folders/{folder-id}/items/{index}.json" },
        );
        op.path_params = vec![
            param("folder_id", "folder-id", TypeRef::String, true),
            param("index", "index", TypeRef::I64, true),
        ];
        assert_tokens(
            path_expression(&op),
            quote! {
                &format!(
                    "/folders/{}/items/{}.json",
                    ::oas_runtime::path_segment("folder-id", folder_id)?,
                    ::oas_runtime::path_segment("index", &index.to_string())?
                )
            },
        );
        op.path = "/a}/{index}".into();
        let format = path_expression(&op).to_string();
        assert!(format.contains(r#""/a}}/{}""#), "{format}");
    }

    #[test]
    fn a_call_without_inputs_sends_a_plain_request_and_decodes_its_one_outcome() {
        let op = operation("get_file", "GET", "/file");
        assert_tokens(
            emit_send(&op),
            quote! {
                let http = ::oas_runtime::Request::new(::oas_runtime::Method::GET, url);
                let response = self.runtime.execute(&operations::GET_FILE, http).await?;
                match response.status().as_u16() {
                    200 => Ok(response.json()?),
                    _ => Err(response.into_error()),
                }
            },
        );
    }

    #[test]
    fn query_parameters_are_json_repeated_joined_or_text() {
        let fields = param(
            "fields",
            "fields",
            TypeRef::Vec(Box::new(TypeRef::String)),
            true,
        );
        let mut ids = param("ids", "id", TypeRef::Vec(Box::new(TypeRef::I64)), false);
        ids.explode = true;
        let mut filter = param("filter", "filter", named("Filter"), false);
        filter.json = true;
        let limit = param("limit", "limit", TypeRef::I32, false);
        let added: TokenStream = [fields, ids, filter, limit].iter().map(add_query).collect();
        assert_tokens(
            added,
            quote! {
                http.query("fields", &request.fields.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
                if let Some(value) = &request.ids { for item in value { http.query("id", item); } }
                if let Some(value) = &request.filter { http.query_json("filter", value)?; }
                if let Some(value) = &request.limit { http.query("limit", value); }
            },
        );
    }

    #[test]
    fn header_parameters_are_sent_as_text() {
        let if_match = param("if_match", "if-match", TypeRef::String, true);
        let size = param("size", "x-size", TypeRef::I64, false);
        let added: TokenStream = [if_match, size].iter().map(add_header).collect();
        assert_tokens(
            added,
            quote! {
                http.header("if-match", &request.if_match)?;
                if let Some(value) = &request.size { http.header("x-size", &value.to_string())?; }
            },
        );
    }

    #[test]
    fn a_json_body_of_another_media_type_replaces_the_content_type() {
        let mut op = operation("patch_file", "PATCH", "/file");
        let body = RequestBody {
            media_type: "application/merge-patch+json".into(),
            kind: BodyKind::Json(named("FilePatch")),
            required: false,
            docs: None,
        };
        assert_tokens(
            attach_body(&op, &body),
            quote! {
                if let Some(body) = body {
                    http.json(body)?;
                    http.header("content-type", "application/merge-patch+json")?;
                }
            },
        );
        op.request_type = Some("PatchFileRequest".into());
        let body = RequestBody {
            media_type: "application/json".into(),
            required: true,
            ..body
        };
        assert_tokens(
            attach_body(&op, &body),
            quote! { http.json(&request.body)?; },
        );
    }

    #[test]
    fn a_form_body_is_sent_like_json_with_its_own_media_type() {
        let op = operation("token", "POST", "/token");
        let body = RequestBody {
            media_type: "application/x-www-form-urlencoded".into(),
            kind: BodyKind::Form {
                ty: named("TokenRequest"),
                fields: vec!["grant_type".into()],
            },
            required: true,
            docs: None,
        };
        assert_tokens(attach_body(&op, &body), quote! { http.form(body)?; });
        let body = RequestBody {
            media_type: "application/x-www-form-urlencoded; charset=utf-8".into(),
            required: false,
            ..body
        };
        assert_tokens(
            attach_body(&op, &body),
            quote! {
                if let Some(body) = body {
                    http.form(body)?;
                    http.header("content-type", "application/x-www-form-urlencoded; charset=utf-8")?;
                }
            },
        );
    }

    #[test]
    fn a_multipart_body_adds_each_part_in_order_and_moves_files_out_of_the_request() {
        let mut op = operation("upload", "POST", "/files");
        op.request_type = Some("UploadRequest".into());
        let text = |list: bool, content_type: Option<&str>| PartEncoding::Text {
            ty: TypeRef::String,
            list,
            content_type: content_type.map(String::from),
        };
        let binary = PartEncoding::Binary {
            content_type: "image/png".into(),
        };
        // The wire name is what the form is given; the Rust name only reads the request.
        let mut attributes = part(
            "attributes",
            true,
            PartEncoding::Json {
                ty: named("Attributes"),
                content_type: "application/json".into(),
            },
        );
        attributes.wire_name = "attributes-part".into();
        let parts = vec![
            attributes,
            part("tags", false, text(true, None)),
            part("note", true, text(false, Some("text/plain; charset=utf-8"))),
            part("file", true, binary.clone()),
            part("thumbnail", false, binary),
        ];
        let body = RequestBody {
            media_type: "multipart/form-data".into(),
            kind: BodyKind::Multipart { parts },
            required: true,
            docs: None,
        };
        assert_tokens(
            attach_body(&op, &body),
            quote! {
                let mut form = ::oas_runtime::Multipart::new();
                form.json("attributes-part", &request.attributes, "application/json")?;
                if let Some(value) = &request.tags {
                    for item in value { form.text("tags", item, None)?; }
                }
                form.text("note", &request.note, Some("text/plain; charset=utf-8"))?;
                form.file("file", request.file, "image/png");
                if let Some(value) = request.thumbnail { form.file("thumbnail", value, "image/png"); }
                http.multipart(form)?;
            },
        );
    }

    #[test]
    fn outcomes_become_variants_of_the_response_enum_with_their_headers() {
        let mut op = operation("create_file", "POST", "/files");
        let mut created = outcome(201, "Created", OutcomeBody::Json(named("File")));
        created.headers = vec![response_header("etag", "ETag")];
        op.outcomes = vec![created, outcome(204, "NoContent", OutcomeBody::Empty)];
        op.response_type = Some("CreateFileResponse".into());
        let arms: TokenStream = op.outcomes.iter().map(|o| decode_outcome(&op, o)).collect();
        assert_tokens(
            arms,
            quote! {
                201 => Ok(CreateFileResponse::Created {
                    body: response.json()?,
                    etag: ::oas_runtime::header::decode(response.headers(), "ETag"),
                }),
                204 => Ok(CreateFileResponse::NoContent),
            },
        );
    }
}

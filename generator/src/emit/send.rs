//! The body of an operation's method, one phase of the call at a time: the path with
//! its parameters encoded (for the URL), then the request (query, headers, body), the
//! send, and the decoding of each success status into the operation's outcome.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::ident;
use crate::ir::{
    BodyKind, HeaderForm, Operation, Outcome, OutcomeBody, Param, Part, PartEncoding, RequestBody,
    Style, TypeRef,
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
        let text = match param {
            Some(p) if p.ty == TypeRef::String && !p.json => quote! { #name },
            Some(p) => text_of(p, quote! { #name }),
            None => quote! { &#name.to_string() },
        };
        args.push(quote! { ::oas_runtime::path_segment(#wire, #text)? });
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
        _ if p.style.is_some() => {
            let style = style_tokens(p.style.unwrap_or(Style::Form));
            let explode = p.explode;
            quote! { http.query_styled(#wire, #value, #style, #explode)?; }
        }
        _ if p.json => quote! { http.query_json(#wire, #value)?; },
        TypeRef::Vec(_) if p.explode => quote! {
            for item in #value { http.query(#wire, item); }
        },
        TypeRef::Vec(_) => quote! {
            http.query(#wire, #value.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
        },
        _ => quote! { http.query(#wire, #value); },
    };
    // A reference bound first, not `&request.field` in the call: clippy would have a
    // `Copy` value passed by value there.
    let inner = add(quote! { value });
    if p.required {
        quote! { let value = &request.#field; #inner }
    } else {
        quote! { if let Some(value) = &request.#field { #inner } }
    }
}

/// `oas_runtime::Style::…` for a style.
fn style_tokens(style: Style) -> TokenStream {
    match style {
        Style::Form => quote! { ::oas_runtime::Style::Form },
        Style::SpaceDelimited => quote! { ::oas_runtime::Style::SpaceDelimited },
        Style::PipeDelimited => quote! { ::oas_runtime::Style::PipeDelimited },
        Style::DeepObject => quote! { ::oas_runtime::Style::DeepObject },
        Style::Json => quote! { ::oas_runtime::Style::Json },
    }
}

/// Adds a header parameter from the request struct (when set), as its text.
fn add_header(p: &Param) -> TokenStream {
    let wire = &p.wire_name;
    let field = ident(&p.rust_name);
    let is_string = p.ty == TypeRef::String && !p.json;
    if p.required {
        let value = if is_string {
            quote! { &request.#field }
        } else {
            text_of(p, quote! { request.#field })
        };
        quote! { http.header(#wire, #value)?; }
    } else {
        let value = if is_string {
            quote! { value }
        } else {
            text_of(p, quote! { value })
        };
        quote! { if let Some(value) = &request.#field { http.header(#wire, #value)?; } }
    }
}

/// The text (a `&str`) a path or header parameter that is not a plain string is sent
/// as, from the place that holds its value: JSON text for `content` in JSON, a list's
/// items joined by commas (`style: simple`), else the value's `Display`.
fn text_of(p: &Param, value: TokenStream) -> TokenStream {
    let wire = &p.wire_name;
    match &p.ty {
        _ if p.json => quote! { &::oas_runtime::json_text(#wire, &#value)? },
        TypeRef::Vec(_) => {
            quote! { &#value.iter().map(ToString::to_string).collect::<Vec<_>>().join(",") }
        }
        _ => quote! { &#value.to_string() },
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
            let (set, default_media, styles) = match &body.kind {
                BodyKind::Json(_) => (quote! { json }, "application/json", None),
                BodyKind::Form {
                    styled: Some(styles),
                    ..
                } => {
                    let styles = styles.iter().map(|s| {
                        let (wire, style, explode) =
                            (&s.wire_name, style_tokens(s.style), s.explode);
                        quote! { (#wire, #style, #explode) }
                    });
                    let styles = quote! { , &[ #( #styles ),* ] };
                    (
                        quote! { form_styled },
                        "application/x-www-form-urlencoded",
                        Some(styles),
                    )
                }
                _ => (quote! { form }, "application/x-www-form-urlencoded", None),
            };
            // `json` and `form` set their media type; another one (`…+json`, a
            // charset) replaces it.
            let media =
                (media != default_media).then(|| quote! { http.header("content-type", #media)?; });
            match (body.required, has_request) {
                (true, true) => quote! { http.#set(&#source #styles)?; #media },
                (true, false) => quote! { http.#set(#source #styles)?; #media },
                (false, true) => {
                    quote! { if let Some(body) = &#source { http.#set(body #styles)?; #media } }
                }
                (false, false) => {
                    quote! { if let Some(body) = #source { http.#set(body #styles)?; #media } }
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

/// The pattern of an outcome's statuses: its code, or its range without the codes
/// other outcomes declare (`201..=299` beside a `200`), as runs of codes.
fn status_pattern(op: &Operation, outcome: &Outcome) -> TokenStream {
    let (first, last) = outcome.status.bounds();
    let taken: Vec<u16> = op
        .outcomes
        .iter()
        .filter(|o| o.status != outcome.status)
        .filter_map(|o| match o.status.bounds() {
            (code, same) if code == same && (first..=last).contains(&code) => Some(code),
            _ => None,
        })
        .collect();
    let mut runs = Vec::new();
    let mut start = first;
    for code in first..=last {
        if taken.contains(&code) {
            if start < code {
                runs.push((start, code - 1));
            }
            start = code + 1;
        }
    }
    if start <= last {
        runs.push((start, last));
    }
    let runs = runs.into_iter().map(|(from, to)| {
        let from = Literal::u16_unsuffixed(from);
        if from.to_string() == to.to_string() {
            quote! { #from }
        } else {
            let to = Literal::u16_unsuffixed(to);
            quote! { #from..=#to }
        }
    });
    quote! { #( #runs )|* }
}

/// The match arm of one success status: its body decoded (JSON or bytes), and its
/// headers parsed when the outcome has some, as the method's result.
fn decode_outcome(op: &Operation, outcome: &Outcome) -> TokenStream {
    let pattern = status_pattern(op, outcome);
    let decode = match &outcome.body {
        OutcomeBody::Empty => None,
        OutcomeBody::Json(_) => Some(quote! { response.json()? }),
        OutcomeBody::Bytes => Some(quote! { response.body().clone() }),
        OutcomeBody::Raw => Some(quote! { response.into_raw() }),
    };
    let value = match &op.response_type {
        None => decode.unwrap_or_else(|| quote! { () }),
        Some(t) => {
            let t = ident(t);
            let variant = ident(&outcome.variant);
            if outcome.headers.is_empty() && !outcome.carries_status() {
                match decode {
                    Some(d) => quote! { #t::#variant(#d) },
                    None => quote! { #t::#variant },
                }
            } else {
                let status = outcome
                    .carries_status()
                    .then(|| quote! { status: response.status(), });
                let body = decode.map(|d| quote! { body: #d, });
                // The runtime reads headers leniently (a value that does not parse is
                // `None`): a header is never worth turning a success, such as a 202 in
                // progress, into an error. It knows HTTP's own headers, such as Retry-After.
                let headers = outcome.headers.iter().map(|h| {
                    let field = ident(&h.rust_name);
                    let wire = &h.wire_name;
                    let read = match h.form {
                        HeaderForm::Text => quote! { decode },
                        HeaderForm::List => quote! { decode_list },
                        HeaderForm::Json => quote! { decode_json },
                    };
                    quote! { #field: ::oas_runtime::header::#read(response.headers(), #wire), }
                });
                quote! { #t::#variant { #status #body #( #headers )* } }
            }
        }
    };
    quote! { #pattern => Ok(#value), }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::build::*;
    use crate::ir::FieldStyle;

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
                let value = &request.fields;
                http.query("fields", value.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
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
                styled: None,
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
    fn a_form_with_lists_objects_or_encodings_is_written_field_by_field_in_its_style() {
        let op = operation("order", "POST", "/orders");
        let body = RequestBody {
            media_type: "application/x-www-form-urlencoded".into(),
            kind: BodyKind::Form {
                ty: named("OrderBody"),
                fields: vec!["items".into(), "metadata".into()],
                styled: Some(vec![FieldStyle {
                    wire_name: "metadata".into(),
                    style: Style::DeepObject,
                    explode: true,
                }]),
            },
            required: true,
            docs: None,
        };
        assert_tokens(
            attach_body(&op, &body),
            quote! {
                http.form_styled(body, &[("metadata", ::oas_runtime::Style::DeepObject, true)])?;
            },
        );
    }

    #[test]
    fn a_range_matches_the_codes_no_other_outcome_declares() {
        let mut op = operation("put", "PUT", "/x");
        let mut range = outcome(200, "Success", OutcomeBody::Empty);
        range.status = crate::ir::Status::Range(2);
        op.outcomes = vec![
            outcome(200, "Ok", OutcomeBody::Empty),
            outcome(204, "NoContent", OutcomeBody::Empty),
            range.clone(),
        ];
        assert_tokens(
            status_pattern(&op, &range),
            quote! { 201..=203 | 205..=299 },
        );
        assert_tokens(status_pattern(&op, &op.outcomes[1]), quote! { 204 });
    }

    #[test]
    fn path_and_header_parameters_without_a_plain_string_form_are_written_as_text() {
        let mut context = param("context", "X-Context", named("Rate"), true);
        context.json = true;
        let tags = param(
            "tags",
            "tags",
            TypeRef::Vec(Box::new(TypeRef::String)),
            false,
        );
        let added: TokenStream = [context, tags].iter().map(add_header).collect();
        assert_tokens(
            added,
            quote! {
                http.header("X-Context", &::oas_runtime::json_text("X-Context", &request.context)?)?;
                if let Some(value) = &request.tags {
                    http.header("tags", &value.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))?;
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

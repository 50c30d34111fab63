//! Operations: parameters, request bodies and servers (responses are in `responses`).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use openapiv3::{Parameter, ParameterSchemaOrContent, QueryStyle};

use super::names::{member_ctx, request_ctx, response_ctx};
use super::select::SelectedOperation;
use super::{Lowered, Lowerer};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, camel, shouty, snake};

/// Whether an operation sends the access token, given its security requirements (its
/// own, or else the spec's): yes when one names a scheme (`[{}, {oauth: []}]`, optional
/// auth, sends it too), no when they are declared and name none (`security: []` or
/// `[{}]`). With nothing declared the token is sent: many specs leave `security` out and
/// the client's configuration decides.
fn needs_auth(security: Option<&Vec<openapiv3::SecurityRequirement>>) -> bool {
    security.is_none_or(|requirements| requirements.iter().any(|r| !r.is_empty()))
}

/// An operation's parameters, by where they go.
#[derive(Default)]
struct Params {
    path: Vec<Param>,
    query: Vec<Param>,
    header: Vec<Param>,
}

impl<'a> Lowerer<'a> {
    /// Lowers one selected operation, named `method_name`.
    pub(super) fn lower_operation(
        &mut self,
        op: &SelectedOperation<'a>,
        method_name: String,
    ) -> Result<Operation, Error> {
        let camel_name = camel(&method_name);
        let operation: &'a openapiv3::Operation = op.operation;
        let pointer = op.pointer.as_str();

        let params = self.gather_params(op)?;
        // The Rust names of the request struct's fields: parameters, then parts.
        let mut names = Namespace::default();
        let Params {
            path: path_params,
            query: query_params,
            header: header_params,
        } = self.lower_params(&params, &camel_name, &mut names)?;
        let path_params = self.order_path_params(op, path_params)?;

        let body = match &operation.request_body {
            Some(body) => Some(self.lower_request_body(
                body,
                &camel_name,
                &format!("{pointer}/requestBody"),
                &mut names,
            )?),
            None => None,
        };

        let (outcomes, error) = self.lower_responses(operation, &camel_name, pointer)?;

        let server = self.operation_server(op, pointer)?;
        let at_url = !self.servers[&server].variables.is_empty();

        let needs_request_type = !query_params.is_empty()
            || !header_params.is_empty()
            || matches!(
                &body,
                Some(RequestBody {
                    kind: BodyKind::Bytes | BodyKind::Multipart { .. },
                    ..
                })
            );
        let request_type =
            needs_request_type.then(|| self.claim_type_name(&request_ctx(&camel_name)));
        let needs_response_type = outcomes.len() > 1
            || outcomes
                .iter()
                .any(|o| !o.headers.is_empty() || o.carries_status());
        let response_type =
            needs_response_type.then(|| self.claim_type_name(&response_ctx(&camel_name)));

        let docs = join_docs(
            operation.summary.as_deref(),
            operation.description.as_deref(),
        );
        let http_method = op.method.to_uppercase();
        Ok(Operation {
            id: op.id.clone(),
            pointer: op.pointer.clone(),
            method_name,
            idempotent: matches!(
                op.method.as_str(),
                "get" | "head" | "put" | "delete" | "options" | "trace"
            ),
            auth: needs_auth(
                operation
                    .security
                    .as_ref()
                    .or(self.openapi.security.as_ref()),
            ),
            http_method,
            path: op.path.clone(),
            server,
            at_url,
            docs,
            path_params,
            query_params,
            header_params,
            body,
            request_type,
            outcomes,
            response_type,
            error,
        })
    }

    /// The parameters of the path item, overridden by the operation's (same name and
    /// place), each with its JSON pointer.
    fn gather_params(
        &self,
        op: &SelectedOperation<'a>,
    ) -> Result<Vec<(&'a Parameter, String)>, Error> {
        let mut params: Vec<(&'a Parameter, String)> = Vec::new();
        for (list, base) in [
            (
                op.path_params,
                format!("/paths/{}/parameters", escape_pointer(&op.path)),
            ),
            (
                op.operation.parameters.as_slice(),
                format!("{}/parameters", op.pointer),
            ),
        ] {
            for (i, param) in list.iter().enumerate() {
                let param_pointer = format!("{base}/{i}");
                let param =
                    self.resolve_component(param, "parameters", |c| &c.parameters, &param_pointer)?;
                let data = param.parameter_data_ref();
                params.retain(|(p, _)| {
                    let d = p.parameter_data_ref();
                    !(d.name == data.name
                        && std::mem::discriminant(*p) == std::mem::discriminant(param))
                });
                params.push((param, param_pointer));
            }
        }
        Ok(params)
    }

    /// Lowers each parameter and sorts them by where they go (in the given order).
    fn lower_params(
        &mut self,
        params: &[(&'a Parameter, String)],
        camel_name: &str,
        names: &mut Namespace,
    ) -> Result<Params, Error> {
        let mut lowered = Params::default();
        for (param, param_pointer) in params {
            let lowered_param = self.lower_param(param, param_pointer, camel_name, names)?;
            match param {
                Parameter::Path { .. } => lowered.path.push(lowered_param),
                Parameter::Query { .. } => lowered.query.push(lowered_param),
                Parameter::Header { .. } => lowered.header.push(lowered_param),
                Parameter::Cookie { .. } => unreachable!("rejected by lower_param"),
            }
        }
        Ok(lowered)
    }

    /// Lowers one path, query or header parameter (cookies are errors). A parameter
    /// described by `content` is sent as its media type says (JSON text).
    fn lower_param(
        &mut self,
        param: &'a Parameter,
        param_pointer: &str,
        camel_name: &str,
        param_names: &mut Namespace,
    ) -> Result<Param, Error> {
        let data = param.parameter_data_ref();
        let ctx = member_ctx(camel_name, &data.name);
        let (lowered, content_json) = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => (
                self.type_of(schema.into(), &ctx, &format!("{param_pointer}/schema"))?,
                false,
            ),
            ParameterSchemaOrContent::Content(content) => {
                self.content_type(content, &ctx, param_pointer)?
            }
        };
        let mut explode = true;
        let mut style = None;
        match param {
            Parameter::Query {
                style: query_style, ..
            } => {
                explode = data.explode.unwrap_or(true);
                style = match query_style {
                    QueryStyle::Form => None,
                    QueryStyle::SpaceDelimited => Some(Style::SpaceDelimited),
                    QueryStyle::PipeDelimited => Some(Style::PipeDelimited),
                    QueryStyle::DeepObject => Some(Style::DeepObject),
                };
            }
            Parameter::Cookie { .. } => {
                return Err(self.construct(param_pointer, "a cookie parameter"));
            }
            Parameter::Path { .. } | Parameter::Header { .. } => {}
        }
        // OpenAPI does not say how a form-style query serializes an object (or a
        // list of them); Box reads such a parameter as JSON text, so it is sent so.
        let json = content_json || (style.is_none() && !self.is_text_or_list(&lowered.ty));
        if json && !content_json && !matches!(param, Parameter::Query { .. }) {
            return Err(self.construct(
                param_pointer,
                "a path or header parameter whose schema has no text form (an object, or a \
                 union with one); `content` with a JSON media type would say how to send it",
            ));
        }
        Ok(Param {
            rust_name: param_names.claim(&snake(&data.name)),
            wire_name: data.name.clone(),
            ty: lowered.ty,
            required: data.required,
            explode,
            json,
            style,
            docs: data.description.clone(),
            pointer: param_pointer.to_owned(),
        })
    }

    /// The type of a parameter or header described by `content` (one media type), and
    /// whether it is sent as JSON text (else it must have a text form).
    pub(super) fn content_type(
        &mut self,
        content: &'a IndexMap<String, openapiv3::MediaType>,
        ctx: &str,
        pointer: &str,
    ) -> Result<(Lowered, bool), Error> {
        let Some((media, media_type)) = pick_media_type(content) else {
            return Err(self.invalid(
                &format!("{pointer}/content"),
                "`content` names no media type",
            ));
        };
        let schema_pointer = format!("{pointer}/content/{}/schema", escape_pointer(media));
        let lowered = match &media_type.schema {
            Some(schema) => self.type_of(schema.into(), ctx, &schema_pointer)?,
            None => Lowered {
                ty: TypeRef::Json,
                nullable: false,
            },
        };
        if is_json_media(media) {
            return Ok((lowered, true));
        }
        if !self.is_text(&lowered.ty) {
            return Err(self.construct(
                &format!("{pointer}/content/{}", escape_pointer(media)),
                format!("a value of media type {media:?} that is not text"),
            ));
        }
        Ok((lowered, false))
    }

    /// Path parameters in template order; every placeholder needs one and vice versa.
    fn order_path_params(
        &self,
        op: &SelectedOperation<'a>,
        mut path_params: Vec<Param>,
    ) -> Result<Vec<Param>, Error> {
        let placeholders = placeholders(&op.path);
        for name in &placeholders {
            if !path_params.iter().any(|p| &p.wire_name == name) {
                return Err(self.invalid(
                    &op.pointer,
                    format!(
                        "path {:?} has {{{name}}} but no path parameter {name:?}",
                        op.path
                    ),
                ));
            }
        }
        if let Some(extra) = path_params
            .iter()
            .find(|p| !placeholders.contains(&p.wire_name))
        {
            return Err(self.invalid(
                &op.pointer,
                format!(
                    "path parameter {:?} does not appear in path {:?}",
                    extra.wire_name, op.path
                ),
            ));
        }
        path_params.sort_by_key(|p| placeholders.iter().position(|n| n == &p.wire_name));
        Ok(path_params)
    }

    /// The operation's server (its own, else its path item's, else the spec's), registered once.
    fn operation_server(
        &mut self,
        op: &SelectedOperation<'a>,
        pointer: &str,
    ) -> Result<String, Error> {
        let (servers, servers_pointer) = if !op.operation.servers.is_empty() {
            (
                op.operation.servers.as_slice(),
                format!("{pointer}/servers/0"),
            )
        } else if !op.path_servers.is_empty() {
            (
                op.path_servers,
                format!("/paths/{}/servers/0", escape_pointer(&op.path)),
            )
        } else {
            (self.openapi.servers.as_slice(), "/servers/0".to_owned())
        };
        let (url, docs, variables) = match servers.first() {
            Some(server) => {
                let mut variables = BTreeMap::new();
                for (name, variable) in server.variables.iter().flatten() {
                    variables.insert(name.clone(), variable.default.clone());
                }
                (server.url.clone(), server.description.clone(), variables)
            }
            // OpenAPI's default server is "/": users must configure a base URL.
            None => ("/".to_owned(), None, BTreeMap::new()),
        };
        for name in placeholders(&url) {
            if !variables.contains_key(&name) {
                return Err(self.invalid(
                    &servers_pointer,
                    format!("server URL {url:?} uses {{{name}}} but declares no such variable"),
                ));
            }
        }
        let name = match self.config.servers.get(&url) {
            Some(name) => name.clone(),
            None => snake(url.split("://").nth(1).unwrap_or(&url)),
        };
        let const_name = shouty(&name);
        match self.servers.get(&const_name) {
            Some(existing) if existing.url_template != url => {
                return Err(self.invalid(&servers_pointer, format!(
                    "servers {url:?} and {:?} both get the name {name:?}; name them in the config's [servers]",
                    existing.url_template
                )));
            }
            Some(_) => {}
            None => {
                self.servers.insert(
                    const_name.clone(),
                    Server {
                        name,
                        url_template: url,
                        variables,
                        docs,
                    },
                );
            }
        }
        Ok(const_name)
    }
}

/// Whether a media type is JSON (`application/json` or `…+json`, parameters aside).
pub(super) fn is_json_media(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// The media type to use: JSON first, then the first listed.
pub(super) fn pick_media_type<V>(content: &IndexMap<String, V>) -> Option<(&String, &V)> {
    content
        .iter()
        .find(|(m, _)| is_json_media(m))
        .or_else(|| content.iter().next())
}

/// `{name}` placeholders of a path or server template, in order.
fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        names.push(rest[start + 1..start + end].to_owned());
        rest = &rest[start + end + 1..];
    }
    names
}

/// An operation's doc comment: its summary, then its description.
fn join_docs(summary: Option<&str>, description: Option<&str>) -> Option<String> {
    match (
        summary.map(str::trim).filter(|s| !s.is_empty()),
        description.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(s), Some(d)) => Some(format!("{s}\n\n{d}")),
        (Some(s), None) => Some(s.to_owned()),
        (None, Some(d)) => Some(d.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::needs_auth;
    use openapiv3::SecurityRequirement;

    fn requirement(schemes: &[&str]) -> SecurityRequirement {
        schemes
            .iter()
            .map(|s| (s.to_string(), Vec::new()))
            .collect()
    }

    #[test]
    fn only_a_declared_requirement_without_schemes_drops_the_token() {
        assert!(
            needs_auth(None),
            "nothing declared: the configuration decides"
        );
        assert!(!needs_auth(Some(&vec![])), "security: []");
        assert!(
            !needs_auth(Some(&vec![requirement(&[])])),
            "security: [{{}}]"
        );
        assert!(needs_auth(Some(&vec![requirement(&["oauth"])])));
        assert!(
            needs_auth(Some(&vec![requirement(&[]), requirement(&["oauth"])])),
            "optional auth sends the token"
        );
    }
}

//! Responses: an operation's success outcomes (bodies and headers) and its error body.

use std::collections::BTreeMap;

use openapiv3::{ParameterSchemaOrContent, ReferenceOr, Response, StatusCode};

use super::Lowerer;
use super::names::{body_ctx, member_ctx, outcome_ctx, status_variant};
use super::operations::{is_json_media, pick_media_type};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, snake};

/// A declared response: its status (`None` for an error code or range, or the
/// default), the response, and its JSON pointer.
type Declared<'a> = (Option<Status>, &'a ReferenceOr<Response>, String);

/// What an operation that declares no success response returns on a 2xx status.
const RAW_SUCCESS_DOCS: &str = "Any 2xx status. The spec declares no success response, so \
     this is the whole response: status, headers and body.";

impl<'a> Lowerer<'a> {
    /// The success outcomes, codes (sorted) before ranges, and the error body type: the
    /// one every error response shares, else any JSON value. An operation that declares
    /// no success (only errors, or only `default`) succeeds with the raw response on
    /// any 2xx status.
    pub(super) fn lower_responses(
        &mut self,
        operation: &'a openapiv3::Operation,
        camel_name: &str,
        pointer: &str,
    ) -> Result<(Vec<Outcome>, TypeRef), Error> {
        let mut outcomes = Vec::new();
        let mut errors: Vec<TypeRef> = Vec::new();
        let statuses = self.statuses(operation, pointer);
        let successes = statuses.iter().filter(|(s, ..)| s.is_some()).count();
        for (status, response, response_pointer) in statuses {
            let response =
                self.resolve_component(response, "responses", |c| &c.responses, &response_pointer)?;
            let ctx = outcome_ctx(camel_name, status, successes == 1 && status.is_some());
            let body = self.response_body(response, &ctx, &response_pointer)?;
            let Some(status) = status else {
                errors.push(match body {
                    OutcomeBody::Json(ty) => ty,
                    _ => TypeRef::Json,
                });
                continue;
            };
            let headers = self.response_headers(response, camel_name, &response_pointer)?;
            outcomes.push(Outcome {
                status,
                variant: status_variant(status),
                body,
                headers,
                docs: Some(response.description.clone()).filter(|d| !d.trim().is_empty()),
            });
        }
        if outcomes.is_empty() {
            outcomes.push(Outcome {
                status: Status::Range(2),
                variant: status_variant(Status::Range(2)),
                body: OutcomeBody::Raw,
                headers: Vec::new(),
                docs: Some(RAW_SUCCESS_DOCS.to_owned()),
            });
        }
        outcomes.sort_by_key(|o| o.status);
        let error = match errors.split_first() {
            Some((first, rest)) if rest.iter().all(|t| t == first) => first.clone(),
            _ => TypeRef::Json,
        };
        Ok((outcomes, error))
    }

    /// The declared responses in spec order, the default last; a success (1xx to 3xx)
    /// has its status, errors none.
    fn statuses(&self, operation: &'a openapiv3::Operation, pointer: &str) -> Vec<Declared<'a>> {
        let mut statuses = Vec::new();
        for (code, response) in &operation.responses.responses {
            let code_pointer = format!("{pointer}/responses/{code}");
            let status = match code {
                StatusCode::Code(n @ 100..=399) => Some(Status::Code(*n)),
                StatusCode::Range(n @ 1..=3) => Some(Status::Range(*n)),
                StatusCode::Code(_) | StatusCode::Range(_) => None,
            };
            statuses.push((status, response, code_pointer));
        }
        if let Some(default) = &operation.responses.default {
            statuses.push((None, default, format!("{pointer}/responses/default")));
        }
        statuses
    }

    /// A response's body, typed `{ctx}Body` when it is inline JSON.
    fn response_body(
        &mut self,
        response: &'a Response,
        ctx: &str,
        response_pointer: &str,
    ) -> Result<OutcomeBody, Error> {
        let Some((media, content)) = pick_media_type(&response.content) else {
            return Ok(OutcomeBody::Empty);
        };
        if !is_json_media(media) {
            return Ok(OutcomeBody::Bytes);
        }
        Ok(match &content.schema {
            Some(schema) => OutcomeBody::Json(
                self.type_of(
                    schema.into(),
                    &body_ctx(ctx),
                    &format!(
                        "{response_pointer}/content/{}/schema",
                        escape_pointer(media)
                    ),
                )?
                .ty,
            ),
            None => OutcomeBody::Json(TypeRef::Json),
        })
    }

    /// The headers a success response declares; each must be a single value.
    fn response_headers(
        &mut self,
        response: &'a Response,
        camel_name: &str,
        response_pointer: &str,
    ) -> Result<Vec<ResponseHeader>, Error> {
        let mut header_names = Namespace::default();
        let mut headers = Vec::new();
        for (name, header) in &response.headers {
            let header_pointer = format!("{response_pointer}/headers/{}", escape_pointer(name));
            let header =
                self.resolve_component(header, "headers", |c| &c.headers, &header_pointer)?;
            let ctx = member_ctx(camel_name, name);
            let (ty, form) = match &header.format {
                ParameterSchemaOrContent::Schema(schema) => {
                    let ty = self
                        .type_of(schema.into(), &ctx, &format!("{header_pointer}/schema"))?
                        .ty;
                    let form = match self.resolve_alias(&ty) {
                        TypeRef::Vec(item) if self.is_single_value(&item) => HeaderForm::List,
                        _ if self.is_single_value(&ty) => HeaderForm::Text,
                        _ => {
                            return Err(self.construct(
                                &header_pointer,
                                "a response header that is not a value or list of values with \
                                 a text form (`content` in a JSON media type would say how to \
                                 read it)",
                            ));
                        }
                    };
                    (ty, form)
                }
                ParameterSchemaOrContent::Content(content) => {
                    let (lowered, json) = self.content_type(content, &ctx, &header_pointer)?;
                    let form = if json {
                        HeaderForm::Json
                    } else {
                        HeaderForm::Text
                    };
                    (lowered.ty, form)
                }
            };
            headers.push(ResponseHeader {
                rust_name: header_names.claim(&snake(name)),
                wire_name: name.clone(),
                ty,
                form,
                docs: header.description.clone(),
            });
        }
        Ok(headers)
    }

    /// Whether a header of type `ty` holds one value: not a list, map or object, and
    /// of the named types only an enum.
    fn is_single_value(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Vec(_) | TypeRef::Map(_) | TypeRef::Json | TypeRef::JsonObject => false,
            TypeRef::Named(n) => matches!(
                self.types.get(n).map(|t| &t.kind),
                Some(TypeKind::Enum { .. })
            ),
            _ => true,
        }
    }
}

/// The error type most operations share (ties to the smallest), if any is not `Json`.
pub(super) fn most_common_error(operations: &[Operation]) -> Option<TypeRef> {
    let mut counts: BTreeMap<&TypeRef, usize> = BTreeMap::new();
    for op in operations {
        if op.error != TypeRef::Json {
            *counts.entry(&op.error).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(t, _)| t.clone())
}

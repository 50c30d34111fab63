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

/// A declared response: its status (`None` for an error range or the default), the
/// response, and its JSON pointer.
type Status<'a> = (Option<u16>, &'a ReferenceOr<Response>, String);

impl<'a> Lowerer<'a> {
    /// The success outcomes, sorted by status, and the error body type: the one every
    /// error response shares, else any JSON value.
    pub(super) fn lower_responses(
        &mut self,
        operation: &'a openapiv3::Operation,
        camel_name: &str,
        pointer: &str,
    ) -> Result<(Vec<Outcome>, TypeRef), Error> {
        let mut outcomes = Vec::new();
        let mut errors: Vec<TypeRef> = Vec::new();
        let statuses = self.statuses(operation, pointer)?;
        let successes = statuses
            .iter()
            .filter(|(s, ..)| matches!(s, Some(100..=399)))
            .count();
        for (status, response, response_pointer) in statuses {
            let response =
                self.resolve_component(response, "responses", |c| &c.responses, &response_pointer)?;
            let is_success = matches!(status, Some(100..=399));
            let ctx = outcome_ctx(camel_name, status, successes == 1 && is_success);
            let body = self.response_body(response, &ctx, &response_pointer)?;
            let Some(status) = status.filter(|_| is_success) else {
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
            return Err(self.construct(
                &format!("{pointer}/responses"),
                "an operation that declares no success (1xx-3xx) response",
            ));
        }
        outcomes.sort_by_key(|o| o.status);
        let error = match errors.split_first() {
            Some((first, rest)) if rest.iter().all(|t| t == first) => first.clone(),
            _ => TypeRef::Json,
        };
        Ok((outcomes, error))
    }

    /// The declared responses in spec order, the default last. A range of success
    /// codes is an error: an outcome needs one status.
    fn statuses(
        &self,
        operation: &'a openapiv3::Operation,
        pointer: &str,
    ) -> Result<Vec<Status<'a>>, Error> {
        let mut statuses = Vec::new();
        for (code, response) in &operation.responses.responses {
            let code_pointer = format!("{pointer}/responses/{code}");
            match code {
                StatusCode::Code(n) => statuses.push((Some(*n), response, code_pointer)),
                StatusCode::Range(n) if *n >= 4 => statuses.push((None, response, code_pointer)),
                StatusCode::Range(n) => {
                    return Err(self.construct(
                        &code_pointer,
                        format!("a success status range {n}XX (list the codes)"),
                    ));
                }
            }
        }
        if let Some(default) = &operation.responses.default {
            statuses.push((None, default, format!("{pointer}/responses/default")));
        }
        Ok(statuses)
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
            let ParameterSchemaOrContent::Schema(schema) = &header.format else {
                return Err(self.construct(&header_pointer, "a header described by `content`"));
            };
            let ty = self
                .type_of(
                    schema.into(),
                    &member_ctx(camel_name, name),
                    &format!("{header_pointer}/schema"),
                )?
                .ty;
            if !self.is_single_value(&ty) {
                return Err(self.construct(
                    &header_pointer,
                    "a response header that is not a single value",
                ));
            }
            headers.push(ResponseHeader {
                rust_name: header_names.claim(&snake(name)),
                wire_name: name.clone(),
                ty,
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

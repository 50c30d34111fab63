//! Error answers. Every error the emulator sends has a `ClientError` body:
//! `{type: "error", status, code, message, context_info?, help_url, request_id}`.
//!
//! Handlers return [`ApiError`]; its response carries the error as an extension and the
//! outermost middleware ([`crate::routes`]) renders the body, because only that middleware
//! knows the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Where Box's error bodies point their `help_url`.
const HELP_URL: &str =
    "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/";

/// An error answer before it is rendered.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Boxed to keep `Result<_, ApiError>` small.
    pub context_info: Option<Box<Value>>,
    /// Sent as `Retry-After` (seconds) when set.
    pub retry_after: Option<u64>,
    /// Sent as `WWW-Authenticate` when set (401 answers).
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            context_info: None,
            retry_after: None,
            www_authenticate: None,
        }
    }

    pub fn with_context(mut self, context_info: Value) -> Self {
        self.context_info = Some(Box::new(context_info));
        self
    }

    pub fn with_retry_after(mut self, secs: Option<u64>) -> Self {
        self.retry_after = secs;
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The generic code Box uses for a status when nothing more specific applies.
    pub fn generic_code(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            408 => "request_timeout",
            409 => "conflict",
            412 => "precondition_failed",
            413 => "request_entity_too_large",
            416 => "range_not_satisfiable",
            421 => "misdirected_request",
            429 => "too_many_requests",
            500 => "internal_server_error",
            503 => "unavailable",
            s if s >= 500 => "internal_server_error",
            _ => "bad_request",
        }
    }

    /// An answer for a status that a handler did not produce itself (axum's own 404, 405,
    /// 413 and extractor rejections).
    pub fn for_status(status: StatusCode) -> Self {
        let message = status.canonical_reason().unwrap_or("error").to_string();
        Self::new(status, Self::generic_code(status), message)
    }

    /// The full response, body included.
    pub fn render(&self, request_id: &str) -> Response {
        #[derive(Serialize)]
        struct ClientError<'a> {
            r#type: &'static str,
            status: u16,
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            context_info: Option<&'a Value>,
            help_url: &'static str,
            request_id: &'a str,
        }
        let body = ClientError {
            r#type: "error",
            status: self.status.as_u16(),
            code: &self.code,
            message: &self.message,
            context_info: self.context_info.as_deref(),
            help_url: HELP_URL,
            request_id,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(value) = self
            .www_authenticate
            .as_deref()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

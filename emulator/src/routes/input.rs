//! Reading what a request brings: JSON bodies and their fields, headers, item names,
//! dates, and the errors of a body that could not be read.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::idle_body::BodyIdleTimeout;
use crate::protocol::{DigestError, check_item_name, parse_sha1_digest};
use crate::store::FileTimes;

/// The largest JSON body accepted.
const JSON_LIMIT: usize = 16 * 1024 * 1024;

/// A JSON object, as request bodies and `attributes` are.
pub(super) type Object = Map<String, Value>;

/// The answer to a request body that could not be read: 408 `request_timeout` when the
/// client stopped sending, else 400 `bad_request`.
pub(super) fn body_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
    if BodyIdleTimeout::is_cause_of(error) {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request body stopped arriving: {error}"),
        );
    }
    ApiError::bad_request(
        "bad_request",
        format!("the request body could not be read: {error}"),
    )
}

pub(super) async fn read_json(body: Body) -> Result<Object, ApiError> {
    let bytes = axum::body::to_bytes(body, JSON_LIMIT)
        .await
        .map_err(|e| body_error(&e))?;
    parse_object(&bytes, "the request body")
}

/// `bytes` as a JSON object; `what` names it in errors.
pub(super) fn parse_object(bytes: &[u8], what: &str) -> Result<Object, ApiError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "bad_request",
            format!("{what} must be a JSON object"),
        )),
        Err(e) => Err(ApiError::bad_request(
            "bad_request",
            format!("{what} is not valid JSON: {e}"),
        )),
    }
}

pub(super) fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The SHA-1 in the `digest` header (`sha=<base64>`), else 400 `bad_request`.
pub(super) fn digest_header(headers: &HeaderMap) -> Result<[u8; 20], ApiError> {
    parse_sha1_digest(header_str(headers, "digest")).map_err(|e| match e {
        DigestError::Missing => {
            ApiError::bad_request("bad_request", "the digest header is required")
        }
        DigestError::Malformed => ApiError::bad_request(
            "bad_request",
            "digest must read `sha=<base64 of the SHA-1>`",
        ),
    })
}

/// A present, non-null field.
pub(super) fn field<'a>(body: &'a Object, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

/// A valid item name in `value`, else 400 `item_name_invalid`; `what` names the field.
pub(super) fn item_name<'a>(value: &'a Value, what: &str) -> Result<&'a str, ApiError> {
    let name = value.as_str().ok_or_else(|| {
        ApiError::bad_request("item_name_invalid", format!("{what} must be a string"))
    })?;
    check_item_name(name).map_err(|why| {
        ApiError::bad_request(
            "item_name_invalid",
            format!("{what} {name:?} is not valid: {why}"),
        )
    })?;
    Ok(name)
}

/// The required string `id` of the object `parent` in `body` (as in `{"parent": {"id":
/// "0"}}`), else 400 `bad_request`; `what` names the object.
pub(super) fn parent_id<'a>(body: &'a Object, what: &str) -> Result<&'a str, ApiError> {
    field(body, "parent")
        .and_then(|parent| parent.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_request",
                format!("{what}.parent.id is required, as a string"),
            )
        })
}

/// `content_created_at` and `content_modified_at` of an `attributes` object (RFC 3339),
/// else 400 `bad_request`.
pub(super) fn file_times(attributes: &Object) -> Result<FileTimes, ApiError> {
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(value) = field(attributes, name) else {
            return Ok(None);
        };
        value
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Some(t.with_timezone(&Utc)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_request",
                    format!("attributes.{name} must be an RFC 3339 date-time, not {value}"),
                )
            })
    };
    Ok(FileTimes {
        content_created_at: time("content_created_at")?,
        content_modified_at: time("content_modified_at")?,
    })
}

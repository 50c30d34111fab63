//! Responses.

use std::any::type_name;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{ApiError, DecodeError, Error};
use crate::header::retry_after;
use crate::text::{BodySnippet, DisplayUrl, HeadersDebug};

/// A response, whatever its status, with its body read in full.
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) method: Method,
    pub(crate) url: Url,
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The method of the request.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL of the request (after redirects, if any).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Decodes the body as JSON.
    ///
    /// The error names the status, the expected type and where decoding
    /// failed, and shows the start of the body.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| DecodeError::body(self.status, type_name::<T>(), &e, &self.body))
    }

    /// Parses the header `name` (in any case), or returns `None` when the
    /// response does not have it. With several values, parses the first.
    ///
    /// The error names the header and shows its value.
    pub fn header<T: FromStr>(&self, name: &str) -> Result<Option<T>, DecodeError> {
        let Some(value) = self.headers.get(name) else {
            return Ok(None);
        };
        let error = || DecodeError::header(self.status, type_name::<T>(), name, value.as_bytes());
        let text = value.to_str().map_err(|_| error())?;
        text.trim().parse().map(Some).map_err(|_| error())
    }

    /// The whole response as plain data: what an operation that declares no success
    /// response returns on a 2xx status.
    pub fn into_raw(self) -> RawResponse {
        RawResponse {
            status: self.status,
            headers: self.headers,
            body: self.body,
        }
    }

    /// Turns the response into an [`Error::Api`], with the body decoded as
    /// `E` when it decodes as one.
    pub fn into_error<E: DeserializeOwned>(self) -> Error<E> {
        let body = serde_json::from_slice(&self.body).ok();
        let request_id = request_id(&self.headers, &self.body);
        let retry_after = retry_after(&self.headers, SystemTime::now());
        Error::Api(Box::new(ApiError {
            status: self.status,
            headers: self.headers,
            body,
            raw_body: self.body,
            request_id,
            retry_after,
            method: self.method,
            url: self.url,
        }))
    }
}

/// A whole response: what a generated method returns when the spec declares no success
/// response for the operation (only errors, or only `default`), so the caller can read
/// whatever the server answered.
#[derive(Clone, PartialEq)]
pub struct RawResponse {
    /// The status (a 2xx one).
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, read in full.
    pub body: Bytes,
}

/// Shows the body as a bounded snippet, never in full.
impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &BodySnippet(&self.body))
            .finish()
    }
}

/// Shows the body as a bounded snippet, never in full.
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("url", &DisplayUrl(&self.url).to_string())
            .field("headers", &HeadersDebug(&self.headers))
            .field("body", &BodySnippet(&self.body))
            .finish()
    }
}

/// The `x-request-id` or `request-id` header, or else the `request_id`
/// string at the top of a JSON object body.
fn request_id(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        request_id: Option<String>,
    }

    ["x-request-id", "request-id"]
        .into_iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .map(str::trim)
        .find(|id| !id.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            let probe: Probe = serde_json::from_slice(body).ok()?;
            probe.request_id.filter(|id| !id.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn request_id_from_headers_then_body() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            request_id(&headers, br#"{"request_id":"b1"}"#).as_deref(),
            Some("b1")
        );
        assert_eq!(request_id(&headers, br#"{"request_id":12}"#), None);
        assert_eq!(request_id(&headers, br#"[1]"#), None);
        assert_eq!(request_id(&headers, b"not json"), None);
        headers.insert("request-id", HeaderValue::from_static("h2"));
        assert_eq!(
            request_id(&headers, br#"{"request_id":"b1"}"#).as_deref(),
            Some("h2")
        );
        headers.insert("x-request-id", HeaderValue::from_static("h1"));
        assert_eq!(request_id(&headers, b"").as_deref(), Some("h1"));
    }
}

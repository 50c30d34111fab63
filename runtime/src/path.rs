//! Encoding of path parameters.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::InvalidRequest;

/// Everything but the unreserved characters of RFC 3986: `A-Z a-z 0-9 - . _ ~`.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `segment` so that it is exactly one segment of a URL path.
///
/// Every byte except the unreserved characters of RFC 3986
/// (`A-Z a-z 0-9 - . _ ~`) is encoded, so `/`, `?`, `#`, `%` and `\` cannot
/// change the structure of the path. The whole segments `.` and `..` are
/// encoded as `%2E` and `%2E%2E`.
///
/// URL parsers (the WHATWG URL standard, which the `url` crate follows) treat
/// `%2E` and `%2E%2E` as dot segments all the same, so a path with such a
/// segment cannot be sent faithfully: [`Client::endpoint`](crate::Client::endpoint)
/// rejects it rather than let it climb out of the base path.
///
/// ```
/// use oas_runtime::encode_path_segment;
///
/// assert_eq!(encode_path_segment("a/b?c"), "a%2Fb%3Fc");
/// assert_eq!(encode_path_segment("100%"), "100%25");
/// assert_eq!(encode_path_segment("file.txt"), "file.txt");
/// assert_eq!(encode_path_segment(".."), "%2E%2E");
/// ```
pub fn encode_path_segment(segment: &str) -> String {
    match segment {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => utf8_percent_encode(segment, NOT_UNRESERVED).to_string(),
    }
}

/// Encodes the value of the path parameter `name` as one segment, like
/// [`encode_path_segment`], and refuses an empty value, which would silently
/// address another resource (`/sessions/` instead of `/sessions/{id}`).
///
/// ```
/// assert_eq!(oas_runtime::path_segment("id", "a/b").unwrap(), "a%2Fb");
/// assert!(oas_runtime::path_segment("id", "").is_err());
/// ```
pub fn path_segment(name: &str, value: &str) -> Result<String, InvalidRequest> {
    if value.is_empty() {
        return Err(InvalidRequest::new(format!(
            "the path parameter {name} is empty"
        )));
    }
    Ok(encode_path_segment(value))
}

#[cfg(test)]
mod tests {
    use super::{encode_path_segment, path_segment};

    #[test]
    fn empty_path_parameter_is_refused_by_name() {
        let error = path_segment("upload_session_id", "").unwrap_err();
        assert!(
            error.to_string().contains("upload_session_id is empty"),
            "{error}"
        );
        assert_eq!(path_segment("id", "..").unwrap(), "%2E%2E");
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(encode_path_segment("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(
            encode_path_segment("a b/c?d#e%f\\g"),
            "a%20b%2Fc%3Fd%23e%25f%5Cg"
        );
        assert_eq!(encode_path_segment("é"), "%C3%A9");
        assert_eq!(encode_path_segment("../x"), "..%2Fx");
        assert_eq!(encode_path_segment("."), "%2E");
        assert_eq!(encode_path_segment("..."), "...");
        assert_eq!(encode_path_segment(""), "");
    }
}

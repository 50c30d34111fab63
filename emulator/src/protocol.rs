//! Small parsers and rules of the upload protocol: `content-range`, `digest`, item names.
//! Pure functions, no HTTP and no state.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use sha1::{Digest, Sha1};

/// A parsed `content-range: bytes <first>-<last>/<total>` (inclusive bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentRange {
    pub first: u64,
    pub last: u64,
    pub total: u64,
}

impl ContentRange {
    /// The number of bytes the range covers.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Parses the header value; `None` when it is not of the form `bytes a-b/total` with
    /// `a <= b`. The unit is matched case-insensitively and spaces around numbers are allowed.
    pub fn parse(value: &str) -> Option<ContentRange> {
        let value = value.trim();
        let (unit, rest) = value.split_once(' ')?;
        if !unit.eq_ignore_ascii_case("bytes") {
            return None;
        }
        let (range, total) = rest.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (first, last, total) = (number(first)?, number(last)?, number(total)?);
        (first <= last).then_some(ContentRange { first, last, total })
    }
}

/// Why a `digest` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestError {
    Missing,
    Malformed,
}

/// Parses `digest: sha=<base64 of 20 bytes>` (the algorithm name in any case, as older SDKs
/// send `SHA=`). Several comma-separated digests are allowed; the `sha` one is used.
pub(crate) fn parse_sha1_digest(value: Option<&str>) -> Result<[u8; 20], DigestError> {
    let value = value.ok_or(DigestError::Missing)?;
    if value.trim().is_empty() {
        return Err(DigestError::Missing);
    }
    for item in value.split(',') {
        let Some((algorithm, encoded)) = item.trim().split_once('=') else {
            continue;
        };
        if !algorithm.trim().eq_ignore_ascii_case("sha") {
            continue;
        }
        let bytes = BASE64
            .decode(encoded.trim())
            .map_err(|_| DigestError::Malformed)?;
        return bytes.try_into().map_err(|_| DigestError::Malformed);
    }
    Err(DigestError::Malformed)
}

/// Base64 of a SHA-1, as in `digest` headers.
pub(crate) fn base64_sha1(sha1: &[u8; 20]) -> String {
    BASE64.encode(sha1)
}

/// Lower-case hex of bytes, as Box writes SHA-1s in JSON.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A part's id: 8 upper-case hex digits derived from the session, the offset and the
/// content, so an identical re-send gets the same id.
pub(crate) fn part_id(session_id: &str, offset: u64, sha1: &[u8; 20]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(session_id.as_bytes());
    hasher.update(offset.to_be_bytes());
    hasher.update(sha1);
    hex(&hasher.finalize()[..4]).to_ascii_uppercase()
}

/// Whether `name` may name a file or folder; `Err` says why not. Refused: empty names, names
/// longer than 255 characters, names with `/` or `\`, with non-printable ASCII, with leading or
/// trailing spaces, and the names `.` and `..`.
pub(crate) fn check_item_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.chars().count() > 255 {
        return Err("the name is longer than 255 characters");
    }
    if name.contains(['/', '\\']) {
        return Err("the name contains '/' or '\\'");
    }
    if name.chars().any(|c| c.is_ascii_control()) {
        return Err("the name contains non-printable characters");
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err("the name starts or ends with a space");
    }
    if name == "." || name == ".." {
        return Err("the names '.' and '..' are reserved");
    }
    Ok(())
}

/// A time as Box writes it: RFC 3339, whole seconds, numeric offset (`2024-01-31T10:20:30+00:00`).
pub(crate) fn box_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses_inclusive_bounds() {
        let r = ContentRange::parse("bytes 8388608-16777215/445856194").unwrap();
        assert_eq!(
            (r.first, r.last, r.total, r.len()),
            (8388608, 16777215, 445856194, 8388608)
        );
        assert!(ContentRange::parse("Bytes 0-0/1").is_some());
        for bad in [
            "",
            "bytes",
            "bytes 5-4/10",
            "bytes -4/10",
            "bytes 0-4/",
            "items 0-4/10",
            "bytes 0-+4/10",
            "bytes 0-4/*",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn digest_accepts_both_cases_and_refuses_garbage() {
        let sha: [u8; 20] = Sha1::digest(b"abc").into();
        let b64 = base64_sha1(&sha);
        assert_eq!(parse_sha1_digest(Some(&format!("sha={b64}"))), Ok(sha));
        assert_eq!(parse_sha1_digest(Some(&format!("SHA={b64}"))), Ok(sha));
        assert_eq!(
            parse_sha1_digest(Some(&format!("md5=xx, sha={b64}"))),
            Ok(sha)
        );
        assert_eq!(parse_sha1_digest(None), Err(DigestError::Missing));
        assert_eq!(
            parse_sha1_digest(Some("sha=%%%")),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            parse_sha1_digest(Some("sha=YWJj")),
            Err(DigestError::Malformed)
        );
        assert_eq!(parse_sha1_digest(Some(&b64)), Err(DigestError::Malformed));
    }

    #[test]
    fn names() {
        assert!(check_item_name("Project.mov").is_ok());
        assert!(check_item_name("ü ñ 名前").is_ok());
        for bad in ["", ".", "..", "a/b", "a\\b", " a", "a ", "a\u{7}b"] {
            assert!(check_item_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_item_name(&"x".repeat(255)).is_ok());
        assert!(check_item_name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn part_ids_are_eight_upper_hex_digits_and_stable() {
        let id = part_id("S", 0, &[0; 20]);
        assert_eq!(id.len(), 8);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(id, part_id("S", 0, &[0; 20]));
        assert_ne!(id, part_id("S", 1, &[0; 20]));
    }
}

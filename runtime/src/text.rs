//! Showing what a server sent, and URLs that may hold secrets, in messages.
//!
//! Error messages end up on terminals and in logs. Text that a server chose (an error
//! body, an id, a field of an answer) could hold escape sequences that rewrite the
//! terminal, or megabytes of noise; a URL could hold a password or a token in its query.
//! Every message built from such text goes through [`ServerText`] or [`redacted_url`].

use std::fmt;

use http::HeaderMap;
use url::Url;

use crate::error::DECODE_SNIPPET_LEN;

/// How much of a server's text a message shows by default, in bytes of the original.
pub const SERVER_TEXT_LEN: usize = 200;

/// Text a server sent, shown safely: on one line (runs of whitespace become one space),
/// control and invisible formatting characters escaped (`\u{1b}`, `\u{202e}`), invalid
/// UTF-8 as `\xNN`, and at most [`SERVER_TEXT_LEN`] bytes of it (or
/// [`max_len`](Self::max_len)), cut between characters and marked `…`.
///
/// ```
/// use oas_runtime::ServerText;
///
/// let shown = ServerText::new("\x1b[2Jgone\n\nfor good").to_string();
/// assert_eq!(shown, r"\u{1b}[2Jgone for good");
/// let long = "x".repeat(1000);
/// assert_eq!(ServerText::new(&long).max_len(3).to_string(), "xxx…");
/// ```
#[derive(Clone, Copy)]
pub struct ServerText<'a> {
    bytes: &'a [u8],
    max: usize,
}

impl<'a> ServerText<'a> {
    /// Shows `text` (a `str`, `String`, `[u8]`, `Bytes`…) at most [`SERVER_TEXT_LEN`] bytes long.
    pub fn new(text: &'a (impl AsRef<[u8]> + ?Sized)) -> ServerText<'a> {
        ServerText {
            bytes: text.as_ref(),
            max: SERVER_TEXT_LEN,
        }
    }

    /// Shows at most `max` bytes of the text.
    pub fn max_len(self, max: usize) -> ServerText<'a> {
        ServerText { max, ..self }
    }
}

impl fmt::Display for ServerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut end = self.bytes.len().min(self.max);
        // Not in the middle of a character (UTF-8 continuation bytes are 0b10xxxxxx).
        let mut back = 0;
        while end < self.bytes.len() && end > 0 && back < 3 && self.bytes[end] & 0xc0 == 0x80 {
            end -= 1;
            back += 1;
        }
        let shown = &self.bytes[..end];
        let mut out = OneLine {
            f,
            started: false,
            space: false,
        };
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_whitespace() {
                    out.space = true;
                } else if c.is_control() || is_invisible_format(c) {
                    out.put(format_args!("{}", c.escape_unicode()))?;
                } else {
                    out.put(format_args!("{c}"))?;
                }
            }
            for byte in chunk.invalid() {
                out.put(format_args!("\\x{byte:02x}"))?;
            }
        }
        if shown.len() < self.bytes.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ServerText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Writes pieces of text on one line: a run of whitespace becomes one space, written only
/// between two pieces.
struct OneLine<'a, 'f> {
    f: &'a mut fmt::Formatter<'f>,
    started: bool,
    space: bool,
}

impl OneLine<'_, '_> {
    fn put(&mut self, piece: fmt::Arguments<'_>) -> fmt::Result {
        if self.space && self.started {
            self.f.write_str(" ")?;
        }
        (self.started, self.space) = (true, false);
        self.f.write_fmt(piece)
    }
}

/// Characters that change how the text around them reads without showing themselves:
/// bidirectional overrides and isolates, zero-width characters, the byte order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

/// `url` as a message may show it: cut before its query or fragment, with any
/// `user:password@` replaced by `***@`. Works on text that does not parse as a URL too.
pub(crate) fn redacted_url(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &url[..authority_start],
            &url[authority_start + at..]
        ),
        None => url.to_owned(),
    }
}

/// Shows headers with their values escaped and bounded.
pub(crate) struct HeadersDebug<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for HeadersDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .iter()
                    .map(|(name, value)| (name.as_str(), ServerText::new(value.as_bytes()))),
            )
            .finish()
    }
}

/// Shows a value's `Debug` output cut at [`DECODE_SNIPPET_LEN`] bytes: a decoded error
/// body holds whatever the server chose to send.
pub(crate) struct BoundedDebug<'a, T>(pub(crate) &'a T);

impl<T: fmt::Debug> fmt::Debug for BoundedDebug<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:?}", self.0);
        write!(f, "{}", ServerText::new(&text).max_len(DECODE_SNIPPET_LEN))
    }
}

/// Shows a URL without its query and fragment.
pub(crate) struct DisplayUrl<'a>(pub(crate) &'a Url);

impl fmt::Display for DisplayUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0.as_str();
        let end = url.find(['?', '#']).unwrap_or(url.len());
        f.write_str(&url[..end])
    }
}

pub(crate) fn without_query(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Shows a body as a bounded snippet.
pub(crate) struct BodySnippet<'a>(pub(crate) &'a [u8]);

impl fmt::Debug for BodySnippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, cut) = snippet_of(self.0, DECODE_SNIPPET_LEN);
        if cut {
            write!(f, "{s:?}… ({} bytes)", self.0.len())
        } else {
            write!(f, "{s:?}")
        }
    }
}

/// At most `max` bytes of the start of `bytes`, invalid UTF-8 replaced, cut
/// at a character boundary; and whether it was cut.
pub(crate) fn snippet_of(bytes: &[u8], max: usize) -> (String, bool) {
    let mut out = String::new();
    let mut consumed = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if out.len() + c.len_utf8() > max {
                return (out, true);
            }
            out.push(c);
            consumed += c.len_utf8();
        }
        if !chunk.invalid().is_empty() {
            if out.len() + char::REPLACEMENT_CHARACTER.len_utf8() > max {
                return (out, true);
            }
            out.push(char::REPLACEMENT_CHARACTER);
            consumed += chunk.invalid().len();
        }
    }
    (out, consumed < bytes.len())
}

/// At most `max` bytes of the start of `bytes`, invalid UTF-8 replaced, cut
/// at a character boundary.
pub(crate) fn snippet(bytes: &[u8], max: usize) -> String {
    snippet_of(bytes, max).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_format_characters_are_escaped() {
        let shown = ServerText::new("a\x1b]0;title\x07b\u{202e}cba\u{7f}").to_string();
        assert_eq!(shown, r"a\u{1b}]0;title\u{7}b\u{202e}cba\u{7f}");
        assert_eq!(
            ServerText::new(b"ok \xff\xfe!").to_string(),
            r"ok \xff\xfe!"
        );
        assert_eq!(
            ServerText::new("é, ü and 日本").to_string(),
            "é, ü and 日本"
        );
    }

    #[test]
    fn whitespace_is_collapsed_to_one_line() {
        assert_eq!(
            ServerText::new("\n  {\r\n \"a\":\t1 }\n").to_string(),
            "{ \"a\": 1 }"
        );
        assert_eq!(ServerText::new("").to_string(), "");
        assert_eq!(ServerText::new(" \n ").to_string(), "");
    }

    #[test]
    fn long_text_is_cut_and_its_length_given() {
        let body = "é".repeat(1000);
        let shown = ServerText::new(&body).max_len(5).to_string();
        // Cut between characters, never inside one.
        assert_eq!(shown, "éé…");
        assert_eq!(format!("{:?}", ServerText::new("a\nb")), "\"a b\"");
    }

    #[test]
    fn credentials_query_and_fragment_are_not_shown() {
        assert_eq!(
            redacted_url("https://user:pass@host:1/a/b?token=x#f"),
            "https://***@host:1/a/b"
        );
        assert_eq!(redacted_url("http://host/p@q"), "http://host/p@q");
        assert_eq!(redacted_url("not a url?secret"), "not a url");
    }

    #[test]
    fn snippet_is_bounded_and_cut_at_char_boundary() {
        let body = "é".repeat(400); // 800 bytes
        let (s, cut) = snippet_of(body.as_bytes(), 511);
        assert!(cut);
        assert_eq!(s, "é".repeat(255));
        let (s, cut) = snippet_of(&[0xff; 1000], 512);
        assert!(cut);
        assert_eq!(s, "\u{FFFD}".repeat(170));
        assert_eq!(snippet_of(b"short", 512), ("short".to_owned(), false));
        assert_eq!(
            snippet_of(b"ab\xffc", 512),
            ("ab\u{FFFD}c".to_owned(), false)
        );
    }
}

//! Doc comments from spec prose and spec strings.
//!
//! A doc comment may hold neither a line break nor a bare CR, and its text is read as
//! markdown and its code blocks run as doctests: everything taken from the spec passes
//! through here before it lands in a `#[doc]`.

use proc_macro2::TokenStream;
use quote::quote;

/// A spec string (a wire value, a path, an id) shown in a doc line: control characters
/// are escaped, as a line break or a bare CR would end or break the comment.
pub(super) fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Spec prose split into doc lines at any line break: `\r\n`, `\n` or a lone `\r`
/// (which a doc comment may not hold).
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n").flat_map(|part| part.split(['\n', '\r']))
}

/// Doc attributes from spec prose. Code fences become `text` (a description is not
/// Rust and must not run as a doctest), and deep indentation, which markdown would
/// read as an indented code block, is reduced.
pub(super) fn docs(text: Option<&str>) -> TokenStream {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return TokenStream::new();
    };
    let mut in_fence = false;
    let lines = prose_lines(text).map(|line| {
        let trimmed = line.trim_start();
        let line = if trimmed.starts_with("```") {
            in_fence = !in_fence;
            if in_fence {
                "```text".to_owned()
            } else {
                "```".to_owned()
            }
        } else if !in_fence && line.len() - trimmed.len() >= 4 {
            format!("  {trimmed}")
        } else {
            line.trim_end().to_owned()
        };
        if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        }
    });
    let lines: Vec<String> = lines.collect();
    let close = in_fence.then(|| quote! { #[doc = " ```"] });
    quote! { #( #[doc = #lines] )* #close }
}

/// Inner doc attributes (`#![doc]`) of a module, one per line of `text`.
pub(super) fn module_docs(text: &str) -> TokenStream {
    let lines = prose_lines(text).map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        }
    });
    quote! { #( #![doc = #lines] )* }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    /// The doc lines of `tokens`, in order.
    fn lines(tokens: TokenStream) -> Vec<String> {
        let item: syn::ItemStruct = syn::parse2(quote! { #tokens struct S; }).unwrap();
        item.attrs
            .iter()
            .map(|attr| match &attr.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => s.value(),
                    other => panic!("not a string: {}", other.to_token_stream()),
                },
                other => panic!("not a doc: {}", other.to_token_stream()),
            })
            .collect()
    }

    #[test]
    fn control_characters_in_spec_strings_are_escaped() {
        assert_eq!(shown("a\r\nb\tc"), "a\\r\\nb\\tc");
        assert_eq!(shown("/files/{id}"), "/files/{id}");
    }

    #[test]
    fn every_kind_of_line_break_starts_a_new_doc_line() {
        let docs = docs(Some("one\r\ntwo\nthree\rfour"));
        assert_eq!(lines(docs), [" one", " two", " three", " four"]);
    }

    #[test]
    fn empty_or_blank_prose_gives_no_docs() {
        assert!(docs(None).is_empty());
        assert!(docs(Some("  \n ")).is_empty());
    }

    #[test]
    fn fences_are_text_and_an_unclosed_fence_is_closed() {
        let docs = docs(Some("Example:\n```json\n{}\n```\n```\nopen"));
        assert_eq!(
            lines(docs),
            [
                " Example:",
                " ```text",
                " {}",
                " ```",
                " ```text",
                " open",
                " ```"
            ]
        );
    }

    #[test]
    fn deep_indentation_outside_fences_is_reduced() {
        let docs = docs(Some("List:\n        - item\n```\n        code\n```"));
        assert_eq!(
            lines(docs),
            [" List:", "   - item", " ```text", "         code", " ```"]
        );
    }
}

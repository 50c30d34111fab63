//! Rust identifiers from spec names: heck for the case, then keywords, leading
//! digits, empty names and collisions.

use std::collections::BTreeSet;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// Words that cannot be plain identifiers (strict and reserved keywords of edition 2024,
/// plus `self`, `Self`, `super`, `crate` which cannot even be raw identifiers).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Type names the emitted code uses unqualified; a schema may not take them.
const RESERVED_TYPES: &[&str] = &[
    "Box",
    "BTreeMap",
    "Client",
    "Clone",
    "Debug",
    "Default",
    "Deserialize",
    "Eq",
    "Err",
    "Error",
    "From",
    "Into",
    "None",
    "Ok",
    "Option",
    "PartialEq",
    "Result",
    "Self",
    "Serialize",
    "Some",
    "String",
    "ToString",
    "Value",
    "Vec",
];

/// Keeps only characters that can appear in identifiers, so heck sees word breaks.
fn words(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

/// A `snake_case` identifier for a field, parameter or method.
pub fn snake(name: &str) -> String {
    let mut ident = words(name).to_snake_case();
    if ident.is_empty() {
        ident = "value".into();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// An `UpperCamelCase` identifier for a type or variant.
pub fn camel(name: &str) -> String {
    let mut ident = words(name).to_upper_camel_case();
    if ident.is_empty() {
        ident = "Empty".into();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, 'V');
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// A `SCREAMING_SNAKE_CASE` identifier for a constant.
pub fn shouty(name: &str) -> String {
    let mut ident = words(name).to_shouty_snake_case();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert_str(0, "S_");
    }
    ident
}

/// A set of names in one namespace; a taken name gets a numeric suffix.
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    /// A namespace for type names, with the names emitted code relies on already taken.
    pub fn for_types() -> Namespace {
        Namespace {
            taken: RESERVED_TYPES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Takes `base`, or `base2`, `base3`... if it is taken. A reserved type name gets
    /// the suffix `Model` first, which reads better than a number.
    pub fn claim(&mut self, base: &str) -> String {
        let base = if RESERVED_TYPES.contains(&base) && self.taken.contains(base) {
            format!("{base}Model")
        } else {
            base.to_owned()
        };
        let mut candidate = base.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            let sep = if base.ends_with(|c: char| c.is_ascii_digit()) {
                "_"
            } else {
                ""
            };
            candidate = format!("{base}{sep}{n}");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }

    /// Whether a name is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_identifiers() {
        assert_eq!(snake("$parent"), "parent");
        assert_eq!(snake("$canEdit"), "can_edit");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("content-range"), "content_range");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(snake("$"), "value");
        assert_eq!(camel("File--Full"), "FileFull");
        assert_eq!(camel("previewer uploader"), "PreviewerUploader");
        assert_eq!(camel("co-owner"), "CoOwner");
        assert_eq!(camel("1080p"), "V1080p");
        assert_eq!(camel(""), "Empty");
        assert_eq!(shouty("box-upload-server"), "BOX_UPLOAD_SERVER");
    }

    #[test]
    fn collisions_get_suffixes() {
        let mut ns = Namespace::for_types();
        assert_eq!(ns.claim("FileFull"), "FileFull");
        assert_eq!(ns.claim("FileFull"), "FileFull2");
        assert_eq!(ns.claim("FileFull"), "FileFull3");
        assert_eq!(ns.claim("Error"), "ErrorModel");
        assert_eq!(ns.claim("V2"), "V2");
        assert_eq!(ns.claim("V2"), "V2_2");
    }
}

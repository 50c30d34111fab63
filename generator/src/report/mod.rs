//! The API report: what a regeneration does to the generated crate's public Rust API.
//!
//! [`Summary`] is the API as plain data, read from the IR and written beside the
//! generated code; [`compare`] lists what changed between two summaries, one
//! [`Change`] per added, removed or changed item, each judged **breaking** or
//! **compatible** for code that uses the crate (the rules are in ARCHITECTURE.md,
//! "What breaks users"); [`Report::text`] and [`Report::markdown`] render the list.
//!
//! - `summary`: the summary, its JSON file;
//! - `diff`: the comparison and the rules that judge each change;
//! - `render`: the terminal text and the Markdown.

mod diff;
mod render;
pub mod summary;

pub use summary::Summary;

/// Compares the summary of the previous generation with the new one.
pub fn compare(old: &Summary, new: &Summary) -> Report {
    Report {
        from: old.api.clone(),
        to: new.api.clone(),
        changes: diff::changes(old, new),
    }
}

/// The changes between two summaries, grouped by the item they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The previous API's title and version.
    pub from: String,
    /// The new API's title and version.
    pub to: String,
    /// The changes, sorted by subject (the API as a whole, servers, operations,
    /// types), each subject's in the order they were found.
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether the API did not change.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many changes break users.
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }
}

/// One change to one item of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The operation, type or server it belongs to, or the API as a whole.
    pub subject: Subject,
    /// What kind of item changed (for the counts).
    pub what: What,
    /// Added, removed or changed.
    pub how: How,
    /// Whether code written against the previous API can fail to compile.
    pub breaking: bool,
    /// What changed, in a few words.
    pub text: String,
    /// JSON pointer of the item in the spec (the new one, or the old one when it is gone).
    pub pointer: Option<String>,
}

/// What a change belongs to; the order is the order of the report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// The API as a whole: a config setting, the default error body.
    Api,
    /// A server constant.
    Server(String),
    /// An operation, by method name, with `METHOD /path`.
    Operation {
        /// Rust method name.
        name: String,
        /// `METHOD /path`.
        http: String,
    },
    /// A named type.
    Type(String),
}

/// The kind of item a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    /// Something about the API as a whole.
    Setting,
    /// A server constant.
    Server,
    /// An operation (its method).
    Operation,
    /// A path, query or header parameter.
    Parameter,
    /// A request body.
    Body,
    /// A success outcome, or what the method returns.
    Outcome,
    /// A named type.
    Type,
    /// A struct field.
    Field,
    /// A value of an open enum.
    EnumValue,
    /// An alternative of a union.
    UnionVariant,
}

impl What {
    /// The plural noun for the counts.
    pub fn plural(self) -> &'static str {
        match self {
            What::Setting => "settings",
            What::Server => "servers",
            What::Operation => "operations",
            What::Parameter => "parameters",
            What::Body => "request bodies",
            What::Outcome => "outcomes",
            What::Type => "types",
            What::Field => "fields",
            What::EnumValue => "enum values",
            What::UnionVariant => "union variants",
        }
    }
}

/// Whether an item came, went or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// New in the new API.
    Added,
    /// Gone from the new API.
    Removed,
    /// In both, different.
    Changed,
}

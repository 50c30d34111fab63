//! Errors: each says what is wrong and where (file, line and column, or JSON pointer).

use std::path::PathBuf;

/// Everything that can go wrong while generating.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid JSON or YAML.
    #[error("{}: invalid {format} at line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document is not an OpenAPI 3.0 description.
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        message: String,
    },
    /// The document breaks OpenAPI 3.0 (its schema, or a rule its text states).
    #[error("{}: breaks OpenAPI at {pointer}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// JSON pointer of the offending value.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// An overlay could not be applied.
    #[error("overlay {}: {message}", path.display())]
    Overlay {
        /// The overlay file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The generation config is invalid.
    #[error("config {}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `$ref` points at nothing (the spec breaks OpenAPI).
    #[error("{}: breaks OpenAPI at {pointer}: dangling $ref {reference:?} (it points at nothing)", path.display())]
    DanglingRef {
        /// The spec file.
        path: PathBuf,
        /// Where the `$ref` is.
        pointer: String,
        /// The reference.
        reference: String,
    },
    /// Valid OpenAPI that this generator cannot express in Rust.
    #[error("{}: at {pointer}: cannot generate code for {what}", path.display())]
    Construct {
        /// The spec file.
        path: PathBuf,
        /// Where the construct is.
        pointer: String,
        /// What it is.
        what: String,
    },
    /// The emitted code did not parse (a generator bug, reported rather than hidden).
    #[error("internal error: emitted {file} does not parse: {message}")]
    Emit {
        /// The output file.
        file: String,
        /// syn's message.
        message: String,
    },
}

/// What kind of problem an [`Error`] is, for tools that count or sort them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be read.
    Read,
    /// The file is not JSON or YAML.
    Syntax,
    /// Not OpenAPI 3.0 (3.1, Swagger 2, another document).
    UnsupportedVersion,
    /// The spec breaks OpenAPI (a dangling `$ref` included).
    InvalidSpec,
    /// Valid OpenAPI that the generator cannot express.
    Construct,
    /// The config or an overlay is wrong.
    Config,
    /// A bug of the generator.
    Internal,
}

impl ErrorKind {
    /// A short name: `invalid-spec`, `construct`...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Read => "read",
            ErrorKind::Syntax => "syntax",
            ErrorKind::UnsupportedVersion => "unsupported-version",
            ErrorKind::InvalidSpec => "invalid-spec",
            ErrorKind::Construct => "construct",
            ErrorKind::Config => "config",
            ErrorKind::Internal => "internal",
        }
    }
}

impl Error {
    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Read { .. } => ErrorKind::Read,
            Error::Syntax { .. } => ErrorKind::Syntax,
            Error::Unsupported { .. } => ErrorKind::UnsupportedVersion,
            Error::Invalid { .. } | Error::DanglingRef { .. } => ErrorKind::InvalidSpec,
            Error::Construct { .. } => ErrorKind::Construct,
            Error::Overlay { .. } | Error::Config { .. } => ErrorKind::Config,
            Error::Emit { .. } => ErrorKind::Internal,
        }
    }

    /// The JSON pointer of the value at fault, for errors about a place in the spec.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Error::Invalid { pointer, .. }
            | Error::DanglingRef { pointer, .. }
            | Error::Construct { pointer, .. } => Some(pointer),
            _ => None,
        }
    }
}

/// A defect of the spec that does not stop generation: what the generator read it as
/// is said in the message. Tools print every one; none is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The spec file.
    pub path: PathBuf,
    /// JSON pointer of the value at fault.
    pub pointer: String,
    /// What is wrong, and how it was read.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: warning: at {}: {}",
            self.path.display(),
            self.pointer,
            self.message
        )
    }
}

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
    /// The document does not match the OpenAPI 3.0 schema.
    #[error("{}: at {pointer}: {message}", path.display())]
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
    /// A `$ref` points at nothing.
    #[error("{}: at {pointer}: dangling $ref {reference:?}", path.display())]
    DanglingRef {
        /// The spec file.
        path: PathBuf,
        /// Where the `$ref` is.
        pointer: String,
        /// The reference.
        reference: String,
    },
    /// A construct the generator cannot express in Rust.
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

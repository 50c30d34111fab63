//! The API report of `cargo xtask codegen`: the summary the previous run wrote beside
//! the generated code, compared with the new one (no network, no old spec needed).

use std::path::Path;

use oas_codegen::report::{Summary, compare, summary::FORMAT};

/// The API summary's file name, in the output crate's folder.
pub const SUMMARY_FILE: &str = "api-summary.json";

/// Lines of the terminal report before compatible changes are only counted.
const TEXT_LINES: usize = 60;

/// What the previous run left.
pub enum Previous {
    /// A summary to compare with.
    Read(Summary),
    /// Why there is none to compare with.
    Missing(String),
}

/// Reads the summary at `path`; a missing, unreadable or other-format file is a
/// note for the report, not an error: regenerating writes a good one.
pub fn read_previous(path: &Path) -> Previous {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Previous::Missing(format!("no previous API summary at {}", path.display()));
        }
        Err(e) => return Previous::Missing(format!("cannot read {}: {e}", path.display())),
    };
    // Look at the format first: a summary of another layout would not parse.
    let format = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| value.get("format")?.as_u64());
    if let Some(format) = format.filter(|f| *f != u64::from(FORMAT)) {
        return Previous::Missing(format!(
            "{} has summary format {format}; this generator writes format {FORMAT}",
            path.display()
        ));
    }
    match Summary::from_json(&text) {
        Ok(summary) => Previous::Read(summary),
        Err(e) => Previous::Missing(format!("{} is not an API summary: {e}", path.display())),
    }
}

/// The report as the terminal shows it and as `--report` writes it.
pub struct Rendered {
    /// For the terminal.
    pub text: String,
    /// For `--report FILE.md`.
    pub markdown: String,
}

/// The report of the change from `previous` to `summary`.
pub fn report(previous: &Previous, summary: &Summary) -> Rendered {
    match previous {
        Previous::Read(old) => {
            let report = compare(old, summary);
            Rendered {
                text: report.text(TEXT_LINES),
                markdown: report.markdown(),
            }
        }
        Previous::Missing(why) => {
            let text = format!("API report: none ({why})\n");
            Rendered {
                markdown: format!("# API changes: {}\n\nNo report: {why}.\n", summary.api),
                text,
            }
        }
    }
}

//! How each file ended, as a summary line or a JSON object, and what that means for the
//! exit code.

use std::path::PathBuf;

use oas_runtime::ServerText;
use serde_json::json;

/// How one file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new file was created.
    Uploaded,
    /// A new version of an existing file was committed.
    NewVersion,
    /// The name is taken by a file with other content and `--on-conflict skip` left it.
    Skipped,
    /// A file of that name already holds the same content (same SHA-1): nothing was sent.
    Unchanged,
    /// The file was not uploaded; `error` says why.
    Failed,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Uploaded => "uploaded",
            Outcome::NewVersion => "new version",
            Outcome::Skipped => "skipped",
            Outcome::Unchanged => "unchanged",
            Outcome::Failed => "failed",
        }
    }

    /// Whether the run can still end with exit code 0.
    pub fn is_success(self) -> bool {
        self != Outcome::Failed
    }
}

/// One file's line of the summary.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The local path.
    pub path: PathBuf,
    /// The Box file id, when one is known.
    pub id: Option<String>,
    /// The name in Box.
    pub name: String,
    pub size: u64,
    /// The SHA-1 of the content, hex, when known (Box's answer, checked against the
    /// source, or the source's own).
    pub sha1: Option<String>,
    /// The Box folder it went to, when known.
    pub folder_id: Option<String>,
    pub outcome: Outcome,
    /// How long this file took, from its first request to its end.
    pub seconds: f64,
    pub error: Option<String>,
    /// Something the user should know (a resume, a fresh start and why).
    pub notes: Vec<String>,
}

impl FileReport {
    /// A report of a file that failed before anything about it was known in Box.
    pub fn failed(path: PathBuf, name: String, size: u64, error: String) -> FileReport {
        FileReport {
            path,
            id: None,
            name,
            size,
            sha1: None,
            folder_id: None,
            outcome: Outcome::Failed,
            seconds: 0.0,
            error: Some(error),
            notes: Vec::new(),
        }
    }

    /// The summary line: outcome, id, size, SHA-1, the name in Box and the local path
    /// (every text escaped: a name may hold terminal escapes).
    pub fn line(&self) -> String {
        let id = self.id.as_deref().map(ServerText::new);
        let sha1 = self.sha1.as_deref().map(ServerText::new);
        let mut line = format!(
            "{:<11} {:>12} {:>14} {:<40} {} from {}",
            self.outcome.label(),
            id.map_or_else(|| "-".to_string(), |id| id.to_string()),
            format!("{} B", self.size),
            sha1.map_or_else(|| "-".to_string(), |s| s.to_string()),
            ServerText::new(&self.name),
            shown_path(&self.path),
        );
        if let Some(error) = &self.error {
            line.push_str(&format!(": {error}"));
        }
        line
    }

    /// The JSON object `--json` prints.
    pub fn json(&self) -> serde_json::Value {
        json!({
            "path": self.path.to_string_lossy(),
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "sha1": self.sha1,
            "folder_id": self.folder_id,
            "outcome": self.outcome.label(),
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
            "error": self.error,
            "notes": self.notes,
        })
    }
}

/// A local path as a line shows it: control characters escaped, like the server's texts
/// (a downloaded tree may hold names that a terminal would act on).
pub fn shown_path(path: &std::path::Path) -> String {
    ServerText::new(path.as_os_str().as_encoded_bytes())
        .max_len(usize::MAX)
        .to_string()
}

/// What the exit code says, as `--help` documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every file uploaded, a new version, skipped or unchanged.
    Success = 0,
    /// Some files failed (the others were uploaded).
    SomeFailed = 1,
    /// The command line is wrong (clap uses 2 as well).
    Usage = 2,
    /// No usable credentials or hosts, or the destination cannot be reached.
    Config = 3,
    /// Interrupted (Ctrl-C); sessions are kept to resume.
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_field_and_a_line_escapes_server_text() {
        let report = FileReport {
            path: PathBuf::from("/data/a.txt"),
            id: Some("12".into()),
            name: "a.txt".into(),
            size: 3,
            sha1: Some("a9993e364706816aba3e25717850c26c9cd0d89d".into()),
            folder_id: Some("0".into()),
            outcome: Outcome::NewVersion,
            seconds: 0.12345,
            error: None,
            notes: vec![],
        };
        let value = report.json();
        for field in [
            "path",
            "id",
            "name",
            "size",
            "sha1",
            "folder_id",
            "outcome",
            "seconds",
            "error",
        ] {
            assert!(value.get(field).is_some(), "{field} in {value}");
        }
        assert_eq!(value["outcome"], "new version");
        assert_eq!(value["seconds"], 0.123);
        let line = report.line();
        assert!(line.starts_with("new version"), "{line}");
        assert!(
            line.contains("a9993e36") && line.ends_with("/data/a.txt"),
            "{line}"
        );
        let hostile = FileReport {
            id: Some("1\u{1b}[2J".into()),
            name: "\u{1b}]0;evil\u{7}.bin".into(),
            ..FileReport::failed("/x".into(), "x".into(), 0, "gone".into())
        };
        assert!(!hostile.line().contains('\u{1b}'), "{}", hostile.line());
        assert!(hostile.line().contains(r"\u{1b}]0;evil\u{7}.bin from /x"));
        assert!(hostile.line().ends_with("/x: gone"));
        assert!(!Outcome::Failed.is_success() && Outcome::Skipped.is_success());
    }
}

//! Name conflicts: what an upload does when its name is taken in the folder, and the
//! item that holds it, as a `409 item_name_in_use` names it.

use std::fmt;
use std::str::FromStr;

use oas_runtime::ServerText;
use serde_json::Value;

/// What an upload does when a file (or folder) of the same name is in the folder already
/// (Box compares names without regard to case). Set with
/// [`Uploader::on_conflict`](super::Uploader::on_conflict).
///
/// Box may report the clash at any of the calls that name the file: the preflight check,
/// a direct upload, the creation of an upload session, or its commit (when another upload
/// took the name meanwhile). The policy applies wherever it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConflictPolicy {
    /// Fail with [`UploadError::NameInUse`](super::UploadError::NameInUse), which names the
    /// existing item. The default.
    #[default]
    Fail,
    /// Leave the existing file as it is: the outcome is
    /// [`Outcome::Skipped`](super::Outcome::Skipped), naming it. A folder of that name is
    /// not a file to leave: it fails as with `Fail`.
    Skip,
    /// Upload the source as a new version of the existing file (directly or in parts, by
    /// size), on the condition that it is still the version that was found (`if-match` on
    /// its etag). When the existing file's SHA-1 is the source's, nothing is sent and the
    /// outcome is [`Outcome::Unchanged`](super::Outcome::Unchanged). A folder of that name
    /// fails as with `Fail`.
    NewVersion,
}

impl ConflictPolicy {
    /// The name the command line uses: `fail`, `skip` or `new-version`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Fail => "fail",
            ConflictPolicy::Skip => "skip",
            ConflictPolicy::NewVersion => "new-version",
        }
    }
}

impl fmt::Display for ConflictPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a [`ConflictPolicy`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a conflict policy: use fail, skip or new-version")]
pub struct UnknownConflictPolicy(String);

impl FromStr for ConflictPolicy {
    type Err = UnknownConflictPolicy;

    /// `fail`, `skip` or `new-version` (also `new_version`).
    fn from_str(s: &str) -> Result<ConflictPolicy, UnknownConflictPolicy> {
        match s {
            "fail" => Ok(ConflictPolicy::Fail),
            "skip" => Ok(ConflictPolicy::Skip),
            "new-version" | "new_version" => Ok(ConflictPolicy::NewVersion),
            other => Err(UnknownConflictPolicy(other.to_string())),
        }
    }
}

/// The item that holds the name an upload wanted, as Box describes it in the
/// `context_info.conflicts` of a `409 item_name_in_use`. Every text is the server's:
/// show it through [`ServerText`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExistingItem {
    /// `file` or `folder` (or what else the server said).
    pub item_type: String,
    /// Its id.
    pub id: String,
    /// Its name, when given.
    pub name: Option<String>,
    /// The SHA-1 of a file's content (hex), when given.
    pub sha1: Option<String>,
    /// Its etag (the version tag `if-match` takes), when given.
    pub etag: Option<String>,
}

impl ExistingItem {
    /// Whether it is a file.
    pub fn is_file(&self) -> bool {
        self.item_type == "file"
    }

    /// Whether a file's content is `sha1` (hex, compared without regard to case).
    pub fn has_sha1(&self, sha1: &str) -> bool {
        self.sha1
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(sha1))
    }
}

/// As messages name it: `file 123 ("a.txt", SHA-1 …)`, every server text escaped.
impl fmt::Display for ExistingItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            ServerText::new(&self.item_type),
            ServerText::new(&self.id)
        )?;
        let mut details = Vec::new();
        if let Some(name) = &self.name {
            details.push(format!("{:?}", ServerText::new(name).to_string()));
        }
        if let Some(sha1) = &self.sha1 {
            details.push(format!("SHA-1 {}", ServerText::new(sha1)));
        }
        if let Some(etag) = &self.etag {
            details.push(format!("etag {}", ServerText::new(etag)));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        Ok(())
    }
}

/// The item in the way, when `error` is a `409 item_name_in_use` that names it.
///
/// Read from the raw body, not the generated types: Box answers `context_info.conflicts`
/// as one object for file uploads (the preflight check, direct uploads, sessions and
/// commits) and as a list for folders, while its schema (`ConflictError`) says a list
/// for both; and the error types of the operations differ (`ClientError` keeps
/// `context_info` as a map, the preflight check's errors are plain JSON). Both shapes are
/// read here; of a list, the first item with an id.
pub(crate) fn name_taken<E>(error: &oas_runtime::Error<E>) -> Option<ExistingItem> {
    let api = error.api()?;
    in_answer(api.status.as_u16(), &api.raw_body)
}

/// The item a `409 item_name_in_use` answer of `status` and `body` names.
fn in_answer(status: u16, body: &[u8]) -> Option<ExistingItem> {
    if status != 409 {
        return None;
    }
    let body: Value = serde_json::from_slice(body).ok()?;
    if body.get("code").and_then(Value::as_str) != Some("item_name_in_use") {
        return None;
    }
    match body.pointer("/context_info/conflicts")? {
        Value::Array(items) => items.iter().find_map(item),
        one => item(one),
    }
}

/// One conflict entry, if it has an id.
fn item(value: &Value) -> Option<ExistingItem> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let id = text("id").filter(|id| !id.is_empty())?;
    Some(ExistingItem {
        item_type: text("type").unwrap_or_else(|| "file".to_string()),
        id,
        name: text("name"),
        sha1: text("sha1").or_else(|| {
            value
                .pointer("/file_version/sha1")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        etag: text("etag"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_read_and_print_as_the_command_line_writes_them() {
        for policy in [
            ConflictPolicy::Fail,
            ConflictPolicy::Skip,
            ConflictPolicy::NewVersion,
        ] {
            assert_eq!(policy.as_str().parse::<ConflictPolicy>(), Ok(policy));
        }
        assert_eq!(ConflictPolicy::default(), ConflictPolicy::Fail);
        let error = "overwrite".parse::<ConflictPolicy>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"overwrite\" is not a conflict policy: use fail, skip or new-version"
        );
    }

    #[test]
    fn both_shapes_of_conflicts_are_read() {
        let file = serde_json::json!({"type": "file", "id": "12", "etag": "3", "name": "a.txt",
            "file_version": {"type": "file_version", "id": "99", "sha1": "abc"}});
        let item = super::item(&file).unwrap();
        assert_eq!(
            item,
            ExistingItem {
                item_type: "file".into(),
                id: "12".into(),
                name: Some("a.txt".into()),
                sha1: Some("abc".into()),
                etag: Some("3".into()),
            }
        );
        assert!(item.is_file() && item.has_sha1("ABC") && !item.has_sha1("abd"));
        assert_eq!(item.to_string(), "file 12 (\"a.txt\", SHA-1 abc, etag 3)");
        // An entry without an id names nothing.
        assert_eq!(super::item(&serde_json::json!({"type": "file"})), None);
        let folder = super::item(&serde_json::json!({"type": "folder", "id": "7"})).unwrap();
        assert!(!folder.is_file());
        assert_eq!(folder.to_string(), "folder 7");
    }

    #[test]
    fn a_conflict_is_an_item_name_in_use_answer_with_an_item() {
        let object = br#"{"type":"error","status":409,"code":"item_name_in_use",
            "context_info":{"conflicts":{"type":"file","id":"12","sha1":"abc","etag":"0"}}}"#;
        let list = br#"{"code":"item_name_in_use","context_info":{"conflicts":
            [{"type":"folder"},{"type":"folder","id":"5","name":"docs"}]}}"#;
        assert_eq!(in_answer(409, object).unwrap().id, "12");
        let folder = in_answer(409, list).unwrap();
        assert_eq!((folder.id.as_str(), folder.is_file()), ("5", false));
        // Another status, another code, no item, or no JSON: no conflict to act on.
        assert_eq!(in_answer(400, object), None);
        let other_code = br#"{"code":"conflict","context_info":{"conflicts":{"id":"1"}}}"#;
        assert_eq!(in_answer(409, other_code), None);
        assert_eq!(in_answer(409, br#"{"code":"item_name_in_use"}"#), None);
        assert_eq!(in_answer(409, b"<html>"), None);
    }
}

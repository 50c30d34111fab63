//! The resume state: one small JSON file per chunked upload in progress, under the user's
//! state directory (`$XDG_STATE_HOME/box-upload/sessions/`, by default
//! `~/.local/state/box-upload/sessions/`), so that running the same command again after a
//! crash finds the session and sends only the missing parts.
//!
//! A file is named by the SHA-1 of its key: the absolute source path, the upload root and
//! the destination (a folder and a name, or the file a new version is for). It is written
//! before the first part is sent, atomically (a temporary file in the same directory,
//! renamed over the old one) and readable by its owner only, and removed when the upload
//! ends. It never holds a token: only the session's id and endpoints, which are useless
//! without one.

use std::fs;
use std::io::Write;
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use box_upload::SessionInfo;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// The version of the file format; files of another version are ignored (and replaced).
const FORMAT: u32 = 1;

/// Where an upload goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Destination {
    /// A new file `name` in folder `folder_id`.
    Folder { folder_id: String, name: String },
    /// A new version of file `file_id`.
    Version { file_id: String },
}

/// What identifies an upload across runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The absolute path of the source.
    pub source: PathBuf,
    /// The upload root the session was created at.
    pub upload_url: String,
    pub destination: Destination,
}

/// The source as it was when the session was created: a source that differs now is not
/// the one whose parts the session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    pub size: u64,
    /// Modification time, seconds and nanoseconds since the Unix epoch.
    pub modified_secs: u64,
    pub modified_nanos: u32,
}

impl SourceStamp {
    pub fn new(size: u64, modified: SystemTime) -> SourceStamp {
        let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        SourceStamp {
            size,
            modified_secs: since.as_secs(),
            modified_nanos: since.subsec_nanos(),
        }
    }

    /// Why `now` is not the source this stamp was taken of, if it is not.
    pub fn differs(&self, now: &SourceStamp) -> Option<String> {
        if self.size != now.size {
            Some(format!(
                "its size changed from {} to {} bytes",
                self.size, now.size
            ))
        } else if (self.modified_secs, self.modified_nanos)
            != (now.modified_secs, now.modified_nanos)
        {
            Some("it was modified since".to_string())
        } else {
            None
        }
    }
}

/// The session, as the engine reported it when it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: String,
    pub part_size: u64,
    pub total_parts: u64,
    pub upload_part_url: Option<String>,
    pub commit_url: Option<String>,
    pub abort_url: Option<String>,
    pub list_parts_url: Option<String>,
}

impl From<&SessionInfo> for SessionRecord {
    fn from(info: &SessionInfo) -> SessionRecord {
        SessionRecord {
            id: info.session_id.clone(),
            part_size: info.part_size,
            total_parts: info.total_parts,
            upload_part_url: info.upload_part_url.clone(),
            commit_url: info.commit_url.clone(),
            abort_url: info.abort_url.clone(),
            list_parts_url: info.list_parts_url.clone(),
        }
    }
}

/// One state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub format: u32,
    pub key: Key,
    pub source: SourceStamp,
    pub session: SessionRecord,
    /// When the session was created (RFC 3339), for people reading the file.
    pub created_at: String,
}

impl Entry {
    pub fn new(key: Key, source: SourceStamp, session: SessionRecord) -> Entry {
        Entry {
            format: FORMAT,
            key,
            source,
            session,
            created_at: chrono::Utc::now().to_rfc3339(),
        }
    }
}

/// A state file that could not be read or written, naming it.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create the state directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the resume state {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the resume state {} is not valid: {source}", path.display())]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the resume state {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no state directory: neither $XDG_STATE_HOME nor a home directory is known; give \
         --state-dir"
    )]
    NoStateDir,
}

/// The directory of state files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store under `dir`, or under the user's state directory (XDG rules; the local
    /// data directory where there is no state directory, as on macOS and Windows).
    pub fn open(dir: Option<PathBuf>) -> Result<Store, StateError> {
        let base = match dir {
            Some(dir) => dir,
            None => {
                let dirs = directories::ProjectDirs::from("", "", "box-upload")
                    .ok_or(StateError::NoStateDir)?;
                dirs.state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf()
            }
        };
        Ok(Store {
            dir: base.join("sessions"),
        })
    }

    /// The directory the files are in.
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`.
    pub fn path_of(&self, key: &Key) -> PathBuf {
        // Keys are plain data: serializing one cannot fail.
        let text = serde_json::to_vec(key).unwrap_or_default();
        let name = crate::transfer::hex(&Sha1::digest(&text));
        self.dir.join(format!("{name}.json"))
    }

    /// The entry of `key`, if there is one. A file of another format, or of another key
    /// (a hash collision), counts as none.
    pub fn load(&self, key: &Key) -> Result<Option<Entry>, StateError> {
        let path = self.path_of(key);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        let entry: Entry =
            serde_json::from_slice(&text).map_err(|source| StateError::Invalid { path, source })?;
        Ok((entry.format == FORMAT && entry.key == *key).then_some(entry))
    }

    /// Writes `entry` atomically, readable by its owner only.
    pub fn save(&self, entry: &Entry) -> Result<(), StateError> {
        self.create_dir()?;
        let path = self.path_of(&entry.key);
        let write = |source| StateError::Write {
            path: path.clone(),
            source,
        };
        // NamedTempFile creates its file with mode 0600 on Unix.
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(write)?;
        let text = serde_json::to_vec_pretty(entry).map_err(|e| write(e.into()))?;
        file.write_all(&text).map_err(write)?;
        file.as_file().sync_all().map_err(write)?;
        file.persist(&path).map_err(|e| write(e.error))?;
        Ok(())
    }

    /// Removes the entry of `key`; one that is not there is fine.
    pub fn remove(&self, key: &Key) -> Result<(), StateError> {
        let path = self.path_of(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Write { path, source }),
        }
    }

    fn create_dir(&self) -> Result<(), StateError> {
        let error = |source| StateError::CreateDir {
            path: self.dir.clone(),
            source,
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(source: &str) -> Key {
        Key {
            source: PathBuf::from(source),
            upload_url: "https://upload.box.com/api/2.0".into(),
            destination: Destination::Folder {
                folder_id: "0".into(),
                name: "a.bin".into(),
            },
        }
    }

    fn entry(key: Key) -> Entry {
        Entry::new(
            key,
            SourceStamp {
                size: 10,
                modified_secs: 1,
                modified_nanos: 2,
            },
            SessionRecord {
                id: "ABC".into(),
                part_size: 8,
                total_parts: 2,
                upload_part_url: Some(
                    "https://upload.box.com/api/2.0/files/upload_sessions/ABC".into(),
                ),
                commit_url: None,
                abort_url: None,
                list_parts_url: None,
            },
        )
    }

    #[test]
    fn an_entry_is_saved_owner_only_found_by_its_key_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Some(dir.path().to_path_buf())).unwrap();
        let saved = entry(key("/data/a.bin"));
        store.save(&saved).unwrap();
        assert_eq!(store.load(&saved.key).unwrap(), Some(saved.clone()));
        // Another source, another destination: another entry.
        assert_eq!(store.load(&key("/data/b.bin")).unwrap(), None);
        let mut elsewhere = saved.key.clone();
        elsewhere.destination = Destination::Version {
            file_id: "5".into(),
        };
        assert_eq!(store.load(&elsewhere).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = store.path_of(&saved.key);
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
            let mode = fs::metadata(store.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // Saving again replaces it; nothing else is left in the directory.
        let mut again = saved.clone();
        again.session.id = "DEF".into();
        store.save(&again).unwrap();
        assert_eq!(store.load(&saved.key).unwrap().unwrap().session.id, "DEF");
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 1);
        store.remove(&saved.key).unwrap();
        assert_eq!(store.load(&saved.key).unwrap(), None);
        store.remove(&saved.key).unwrap();
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(Some(dir.path().to_path_buf())).unwrap();
        let key = key("/data/a.bin");
        store.save(&entry(key.clone())).unwrap();
        fs::write(store.path_of(&key), b"{not json").unwrap();
        let error = store.load(&key).unwrap_err().to_string();
        assert!(
            error.contains(&store.path_of(&key).display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn a_stamp_says_what_changed() {
        let stamp = SourceStamp {
            size: 10,
            modified_secs: 1,
            modified_nanos: 2,
        };
        assert_eq!(stamp.differs(&stamp), None);
        let bigger = SourceStamp { size: 11, ..stamp };
        assert_eq!(
            stamp.differs(&bigger).unwrap(),
            "its size changed from 10 to 11 bytes"
        );
        let touched = SourceStamp {
            modified_nanos: 3,
            ..stamp
        };
        assert_eq!(stamp.differs(&touched).unwrap(), "it was modified since");
    }
}

//! Where the bytes come from: a file (positional reads on a blocking thread) or an async
//! reader of known size (sequential reads).

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use chrono::{DateTime, FixedOffset};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::error::UploadError;

/// The bytes to upload, for [`Uploader::resume`](super::Uploader::resume): a file, or an
/// async reader of known size.
pub struct Source<'a>(pub(crate) SourceKind<'a>);

pub(crate) enum SourceKind<'a> {
    Path(PathBuf),
    Reader {
        reader: Box<dyn AsyncRead + Unpin + Send + 'a>,
        size: u64,
    },
}

impl Source<'static> {
    /// The file at `path`, read with positional reads.
    pub fn path(path: impl Into<PathBuf>) -> Source<'static> {
        Source(SourceKind::Path(path.into()))
    }
}

impl<'a> Source<'a> {
    /// `size` bytes read from `reader`, in order. It must yield exactly `size` bytes.
    pub fn reader(reader: impl AsyncRead + Unpin + Send + 'a, size: u64) -> Source<'a> {
        Source(SourceKind::Reader {
            reader: Box::new(reader),
            size,
        })
    }
}

impl fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SourceKind::Path(path) => f.debug_tuple("Source::Path").field(path).finish(),
            SourceKind::Reader { size, .. } => f
                .debug_struct("Source::Reader")
                .field("size", size)
                .finish_non_exhaustive(),
        }
    }
}

/// What identifies a file's content without reading it: size, modification time, inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileState {
    len: u64,
    modified: Option<SystemTime>,
    identity: Option<(u64, u64)>,
}

impl FileState {
    fn of(meta: &std::fs::Metadata) -> FileState {
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.dev(), meta.ino()))
        };
        #[cfg(not(unix))]
        let identity = None;
        FileState {
            len: meta.len(),
            modified: meta.modified().ok(),
            identity,
        }
    }

    /// What differs between `self` (at the start) and `now`, if anything.
    fn change(&self, now: &FileState) -> Option<String> {
        if now.identity != self.identity {
            Some("the path now names another file (it was replaced)".to_string())
        } else if now.len != self.len {
            Some(format!(
                "its size went from {} to {} bytes",
                self.len, now.len
            ))
        } else if now.modified != self.modified {
            Some("its modification time changed".to_string())
        } else {
            None
        }
    }
}

/// An opened source.
pub(crate) enum Input<'a> {
    File {
        path: PathBuf,
        file: Arc<File>,
        state: FileState,
    },
    Reader {
        reader: Box<dyn AsyncRead + Unpin + Send + 'a>,
        size: u64,
    },
}

impl<'a> Input<'a> {
    /// Opens the source and records the file's size and modification time.
    pub(crate) async fn open(source: Source<'a>) -> Result<Input<'a>, UploadError> {
        match source.0 {
            SourceKind::Reader { reader, size } => Ok(Input::Reader { reader, size }),
            SourceKind::Path(path) => {
                let opened = {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || {
                        let file = File::open(&path)?;
                        let meta = file.metadata()?;
                        Ok::<_, io::Error>((file, meta))
                    })
                    .await
                };
                let (file, meta) = match opened {
                    Ok(Ok(opened)) => opened,
                    Ok(Err(source)) => {
                        return Err(UploadError::Io {
                            path: Some(path),
                            action: "open".into(),
                            source,
                        });
                    }
                    Err(e) => return Err(internal(e)),
                };
                if !meta.is_file() {
                    return Err(UploadError::Io {
                        path: Some(path),
                        action: "upload".into(),
                        source: io::Error::other("not a regular file"),
                    });
                }
                Ok(Input::File {
                    path,
                    file: Arc::new(file),
                    state: FileState::of(&meta),
                })
            }
        }
    }

    /// The number of bytes to upload.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Input::File { state, .. } => state.len,
            Input::Reader { size, .. } => *size,
        }
    }

    /// Whether a part can be read a second time (a file, not a reader).
    pub(crate) fn can_read_again(&self) -> bool {
        matches!(self, Input::File { .. })
    }

    /// The file's path, if the source is a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Input::File { path, .. } => Some(path),
            Input::Reader { .. } => None,
        }
    }

    /// The file's modification time in whole seconds, for `content_modified_at`.
    pub(crate) fn content_modified_at(&self) -> Option<DateTime<FixedOffset>> {
        let Input::File { state, .. } = self else {
            return None;
        };
        let secs = state.modified?.duration_since(UNIX_EPOCH).ok()?.as_secs();
        Some(DateTime::from_timestamp(i64::try_from(secs).ok()?, 0)?.fixed_offset())
    }

    /// Fills `buffer` with the `len` bytes at `offset`, checking after a file read that the
    /// file did not change. A reader is read in order: `offset` must follow the last read.
    pub(crate) async fn read_part(
        &mut self,
        mut buffer: BytesMut,
        offset: u64,
        len: usize,
    ) -> Result<BytesMut, UploadError> {
        if buffer.len() >= len {
            buffer.truncate(len);
        } else {
            buffer.resize(len, 0);
        }
        let last = offset + len as u64 - 1;
        match self {
            Input::File { path, file, state } => {
                let file = file.clone();
                let before = state.clone();
                let read = tokio::task::spawn_blocking(move || {
                    let result = read_exact_at(&file, &mut buffer, offset);
                    let now = file.metadata().map(|m| FileState::of(&m));
                    (buffer, result, now)
                })
                .await
                .map_err(internal)?;
                let (buffer, result, now) = read;
                let change = match &now {
                    // The handle keeps its inode: compare size and time only.
                    Ok(now) => before.change(&FileState {
                        identity: before.identity,
                        ..now.clone()
                    }),
                    Err(_) => None,
                };
                if let Some(what) = change {
                    return Err(UploadError::SourceChanged {
                        what: format!("{} changed while it was read: {what}", path.display()),
                    });
                }
                match result {
                    Ok(()) => Ok(buffer),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        Err(UploadError::SourceChanged {
                            what: format!(
                                "{} ended before byte {last}: it is shorter than the {} bytes \
                                 it had at the start",
                                path.display(),
                                before.len
                            ),
                        })
                    }
                    Err(source) => Err(UploadError::Io {
                        path: Some(path.clone()),
                        action: format!("read bytes {offset}-{last} of"),
                        source,
                    }),
                }
            }
            Input::Reader { reader, size } => match reader.read_exact(&mut buffer).await {
                Ok(_) => Ok(buffer),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    Err(UploadError::SourceChanged {
                        what: format!(
                            "the reader ended before byte {last}, short of the {size} bytes \
                             announced"
                        ),
                    })
                }
                Err(source) => Err(UploadError::Io {
                    path: None,
                    action: format!("read bytes {offset}-{last} of"),
                    source,
                }),
            },
        }
    }

    /// After the last part: the file is still the same (size, modification time, and the
    /// path still names it), or the reader has nothing more.
    pub(crate) async fn check_unchanged(&mut self) -> Result<(), UploadError> {
        match self {
            Input::File { path, file, state } => {
                let (file, path_buf) = (file.clone(), path.clone());
                let (by_handle, by_path) = tokio::task::spawn_blocking(move || {
                    (file.metadata(), std::fs::metadata(&path_buf))
                })
                .await
                .map_err(internal)?;
                let now = match (by_handle, by_path) {
                    (Ok(handle), Ok(by_path)) => {
                        let handle = FileState::of(&handle);
                        let by_path = FileState::of(&by_path);
                        state.change(&handle).or_else(|| state.change(&by_path))
                    }
                    (_, Err(e)) => Some(format!("it can no longer be read: {e}")),
                    (Err(e), _) => Some(format!("it can no longer be read: {e}")),
                };
                match now {
                    None => Ok(()),
                    Some(what) => Err(UploadError::SourceChanged {
                        what: format!("{} changed during the upload: {what}", path.display()),
                    }),
                }
            }
            Input::Reader { reader, size } => {
                let mut probe = [0u8; 1];
                match reader.read(&mut probe).await {
                    Ok(0) => Ok(()),
                    Ok(_) => Err(UploadError::SourceChanged {
                        what: format!("the reader has more than the {size} bytes announced"),
                    }),
                    Err(source) => Err(UploadError::Io {
                        path: None,
                        action: format!("read past byte {size} of"),
                        source,
                    }),
                }
            }
        }
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(crate) fn internal(e: tokio::task::JoinError) -> UploadError {
    UploadError::Internal {
        what: format!("a blocking task stopped: {e}"),
    }
}

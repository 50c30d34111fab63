//! Where the bytes come from: a file (positional reads on a blocking thread), an async
//! reader of known size (sequential reads), or, for a direct upload of a reader, its
//! bytes read into memory.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, FixedOffset};
use futures_util::stream::{self, BoxStream, StreamExt};
use sha1::{Digest, Sha1};
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
        /// Whether a byte was read: a reader cannot start over.
        started: bool,
    },
    /// A reader's bytes, read whole for a direct upload (whose `content-md5` header needs
    /// the digest before the first byte is sent).
    Memory(Bytes),
}

/// The size of the pieces a direct upload reads from a file and sends, and of the reads
/// of the hash pass before it.
const PIECE: usize = 256 * 1024;

impl<'a> Input<'a> {
    /// Opens the source and records the file's size and modification time.
    pub(crate) async fn open(source: Source<'a>) -> Result<Input<'a>, UploadError> {
        match source.0 {
            SourceKind::Reader { reader, size } => Ok(Input::Reader {
                reader,
                size,
                started: false,
            }),
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
            Input::Memory(bytes) => bytes.len() as u64,
        }
    }

    /// Whether a part can be read a second time (a file or bytes, not a reader).
    pub(crate) fn can_read_again(&self) -> bool {
        !matches!(self, Input::Reader { .. })
    }

    /// Whether the whole source can still be read from its start: not a reader that was
    /// read from.
    pub(crate) fn can_start_over(&self) -> bool {
        !matches!(self, Input::Reader { started: true, .. })
    }

    /// The file's path, if the source is a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Input::File { path, .. } => Some(path),
            Input::Reader { .. } | Input::Memory(_) => None,
        }
    }

    /// A reader read whole into memory (at most its announced size, which the caller
    /// bounds); a file as it is. A reader that ends early or has more bytes is
    /// [`UploadError::SourceChanged`].
    pub(crate) async fn into_memory(self) -> Result<Input<'a>, UploadError> {
        let Input::Reader { size, .. } = &self else {
            return Ok(self);
        };
        let len = usize::try_from(*size).map_err(|_| UploadError::SourceChanged {
            what: format!("the reader's {size} bytes do not fit in memory"),
        })?;
        let mut input = self;
        let buffer = input.read_part(BytesMut::new(), 0, len).await?;
        input.check_unchanged().await?;
        Ok(Input::Memory(buffer.freeze()))
    }

    /// The SHA-1 of the whole source, read from its start (a file in pieces on a blocking
    /// thread, after which it must be unchanged); `on_read` gets the bytes read so far.
    /// A reader cannot be read twice: [`into_memory`](Self::into_memory) it first.
    pub(crate) async fn sha1(
        &mut self,
        on_read: impl Fn(u64) + Send + 'static,
    ) -> Result<[u8; 20], UploadError> {
        match self {
            Input::Memory(bytes) => {
                let bytes = bytes.clone();
                let len = bytes.len() as u64;
                let digest = tokio::task::spawn_blocking(move || Sha1::digest(&bytes).into())
                    .await
                    .map_err(internal)?;
                on_read(len);
                Ok(digest)
            }
            Input::File { path, file, state } => {
                let (file, len) = (file.clone(), state.len);
                let hashed = tokio::task::spawn_blocking(move || {
                    let mut hasher = Sha1::new();
                    let mut buffer = vec![0u8; PIECE];
                    let mut offset = 0;
                    while offset < len {
                        let n = (len - offset).min(PIECE as u64) as usize;
                        read_exact_at(&file, &mut buffer[..n], offset).map_err(|e| (offset, e))?;
                        hasher.update(&buffer[..n]);
                        offset += n as u64;
                        on_read(offset);
                    }
                    Ok::<[u8; 20], (u64, io::Error)>(hasher.finalize().into())
                })
                .await
                .map_err(internal)?;
                let digest = hashed.map_err(|(offset, source)| {
                    if source.kind() == io::ErrorKind::UnexpectedEof {
                        UploadError::SourceChanged {
                            what: format!(
                                "{} ended before byte {} while it was hashed",
                                path.display(),
                                state.len
                            ),
                        }
                    } else {
                        UploadError::Io {
                            path: Some(path.clone()),
                            action: format!("read bytes from {offset} of"),
                            source,
                        }
                    }
                })?;
                self.check_unchanged().await?;
                Ok(digest)
            }
            Input::Reader { .. } => Err(UploadError::Internal {
                what: "a reader was to be hashed before it is sent".into(),
            }),
        }
    }

    /// The whole source as a stream of pieces, for a direct upload: a file read from its
    /// start (the handle opened at the start, so the bytes are those hashed unless the
    /// file was changed in place), or bytes sliced without a copy. `None` for a reader.
    pub(crate) fn content(&self) -> Option<BoxStream<'static, io::Result<Bytes>>> {
        match self {
            Input::Memory(bytes) => {
                let bytes = bytes.clone();
                let pieces = (0..bytes.len())
                    .step_by(PIECE)
                    .map(move |at| Ok(bytes.slice(at..bytes.len().min(at + PIECE))));
                Some(stream::iter(pieces.collect::<Vec<_>>()).boxed())
            }
            Input::File { file, state, .. } => {
                let (file, len) = (file.clone(), state.len);
                let pieces = stream::try_unfold(0u64, move |offset| {
                    let file = file.clone();
                    async move {
                        if offset >= len {
                            return Ok(None);
                        }
                        let n = (len - offset).min(PIECE as u64) as usize;
                        let piece = tokio::task::spawn_blocking(move || {
                            let mut piece = vec![0u8; n];
                            read_exact_at(&file, &mut piece, offset).map(|()| piece)
                        })
                        .await
                        .map_err(io::Error::other)??;
                        Ok(Some((Bytes::from(piece), offset + n as u64)))
                    }
                });
                Some(pieces.boxed())
            }
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
        let last = (offset + len as u64).saturating_sub(1);
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
            Input::Memory(bytes) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                match bytes.get(start..start.saturating_add(len)) {
                    Some(piece) => {
                        buffer.copy_from_slice(piece);
                        Ok(buffer)
                    }
                    None => Err(UploadError::Internal {
                        what: format!("bytes {offset}-{last} are past the source's end"),
                    }),
                }
            }
            Input::Reader {
                reader,
                size,
                started,
            } => match reader.read_exact(&mut buffer).await {
                Ok(_) => {
                    *started = true;
                    Ok(buffer)
                }
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
            Input::Memory(_) => Ok(()),
            Input::Reader { reader, size, .. } => {
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

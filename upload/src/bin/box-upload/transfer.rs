//! One file: compare it with what its folder holds, then send it (in one request, or in
//! parts with its session recorded for an automatic resume), and say how it ended.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use box_upload::{
    CancellationToken, FileFull, Outcome as EngineOutcome, Source, UploadError, Uploader,
};
use oas_runtime::ServerText;
use sha1::{Digest, Sha1};
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;

use crate::OnConflict;
use crate::display::{Display, FileProgress};
use crate::folders::{Existing, Listing};
use crate::report::{FileReport, Outcome};
use crate::state::{Destination, Entry, Key, SessionRecord, SourceStamp, Store};
use crate::walk::LocalFile;

/// What every file of a run shares.
#[derive(Clone)]
pub struct Context {
    /// With the run's budget, concurrency and cancel token.
    pub uploader: Uploader,
    pub budget: Arc<Semaphore>,
    /// `None`: no automatic resume (an embedded emulator, or no state directory).
    pub store: Option<Store>,
    pub upload_url: String,
    pub on_conflict: OnConflict,
    /// Files from this size go in parts.
    pub chunked_from: u64,
    pub display: Display,
    /// Ctrl-C: files not started are not started, requests of the command's own stop.
    pub cancel: CancellationToken,
    /// The variables the credentials came from, for a message after a 401.
    pub credentials: &'static str,
}

/// Where a file goes.
pub enum Target<'a> {
    /// Into a folder: compared with what the folder holds first.
    Folder {
        folder_id: &'a str,
        listing: &'a Listing,
    },
    /// A new version of this file (`--new-version`).
    Version { file_id: &'a str },
    /// The rest of this session (`--resume`).
    Resume { session_id: &'a str },
}

/// How a send ended, before it is a report.
enum Sent {
    File(Box<FileFull>, Outcome),
    Unchanged { file_id: String },
}

impl Context {
    /// Uploads `file` to `target` and says how it ended.
    pub async fn upload(&self, file: &LocalFile, target: Target<'_>) -> FileReport {
        let started = Instant::now();
        let big = file.size >= self.chunked_from;
        let progress = self.display.start_file(&file.name, file.size, big);
        let mut report = FileReport::failed(
            file.path.clone(),
            file.name.clone(),
            file.size,
            String::new(),
        );
        if let Target::Folder { folder_id, .. } = &target {
            report.folder_id = Some(folder_id.to_string());
        }
        let result = tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Failure::Failed("interrupted".into())),
            result = self.decide_and_send(file, target, &progress, &mut report.notes) => result,
        };
        report.seconds = started.elapsed().as_secs_f64();
        match result {
            Ok((Sent::File(committed, outcome), _)) => {
                report.id = Some(committed.id.clone());
                report.name = committed.name.clone().unwrap_or(report.name);
                report.sha1 = committed.sha1.clone();
                if let Some(parent) = committed.parent.as_ref() {
                    report.folder_id = Some(parent.id.clone());
                }
                report.outcome = outcome;
                report.error = None;
            }
            Ok((Sent::Unchanged { file_id }, sha1)) => {
                report.id = Some(file_id);
                report.sha1 = sha1;
                report.outcome = Outcome::Unchanged;
                report.error = None;
            }
            Err(Failure::Skipped { file_id, sha1 }) => {
                report.id = Some(file_id);
                report.sha1 = sha1;
                report.outcome = Outcome::Skipped;
                report.error = None;
            }
            Err(Failure::Failed(error)) => report.error = Some(error),
        }
        progress.finish(&report);
        report
    }

    /// The decision by what the folder holds, then the send. Also gives the source's
    /// SHA-1 when it was computed.
    async fn decide_and_send(
        &self,
        file: &LocalFile,
        target: Target<'_>,
        progress: &FileProgress,
        notes: &mut Vec<String>,
    ) -> Result<(Sent, Option<String>), Failure> {
        match target {
            Target::Resume { session_id } => {
                let uploader = self.with_progress(progress);
                let committed = uploader
                    .resume(session_id, Source::path(&file.path))
                    .await
                    .map_err(|e| Failure::Failed(describe(&e, self.credentials)))?;
                Ok((Sent::File(Box::new(committed), Outcome::Uploaded), None))
            }
            Target::Version { file_id } => {
                let destination = Destination::version(file_id);
                let sent = self.send(file, destination, progress, notes).await?;
                Ok((sent, None))
            }
            Target::Folder { folder_id, listing } => {
                let destination = Destination::folder(folder_id, &file.name);
                let Some(existing) = listing.get(&file.name) else {
                    let sent = self.send(file, destination, progress, notes).await?;
                    return Ok((sent, None));
                };
                let (id, sha1) = match existing {
                    Existing::File { id, sha1, .. } => (id, sha1),
                    Existing::Folder { id } | Existing::Other { id } => {
                        return Err(Failure::Failed(format!(
                            "the name is taken by folder or item {} in the destination",
                            ServerText::new(id)
                        )));
                    }
                };
                let own = sha1_of(&file.path)
                    .await
                    .map_err(|e| Failure::Failed(format!("cannot be read: {e}")))?;
                if sha1
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&own))
                {
                    let file_id = id.clone();
                    return Ok((Sent::Unchanged { file_id }, Some(own)));
                }
                match self.on_conflict {
                    OnConflict::Fail => Err(Failure::Failed(format!(
                        "the name is taken by file {} with other content (use \
                         --on-conflict new-version or skip)",
                        ServerText::new(id)
                    ))),
                    OnConflict::Skip => Err(Failure::Skipped {
                        file_id: id.clone(),
                        sha1: sha1.clone(),
                    }),
                    // The engine meets the name taken and sends a new version of the file
                    // that holds it, at the version it found (`if-match`).
                    OnConflict::NewVersion => {
                        let sent = self.send(file, destination, progress, notes).await?;
                        Ok((sent, Some(own)))
                    }
                }
            }
        }
    }

    /// Sends `file` to `destination` through the engine: in one request below the
    /// chunked threshold; in parts from it, resuming the session a state entry names when
    /// its source is unchanged and the session still exists, or else recording the new
    /// session before its first part.
    async fn send(
        &self,
        file: &LocalFile,
        destination: Destination,
        progress: &FileProgress,
        notes: &mut Vec<String>,
    ) -> Result<Sent, Failure> {
        let key = Key {
            source: file.path.clone(),
            upload_url: self.upload_url.clone(),
            destination: destination.clone(),
        };
        let stamp =
            stamp_now(&file.path).map_err(|e| Failure::Failed(format!("cannot be read: {e}")))?;
        let uploader = self.with_progress(progress);
        let store = self
            .store
            .as_ref()
            .filter(|_| file.size >= self.chunked_from);
        if let Some(store) = store {
            match self
                .resume_recorded(store, &key, &stamp, &uploader, notes)
                .await
            {
                Resumed::Done(result) => {
                    return result.map(|file| Sent::File(file, destination.outcome()));
                }
                Resumed::No => {}
            }
        }
        let uploader = match store {
            Some(store) => {
                let store = store.clone();
                let key = key.clone();
                let display = self.display.clone();
                uploader.on_session_created(move |info| {
                    let entry = Entry::new(key.clone(), stamp, SessionRecord::from(info));
                    if let Err(e) = store.save(&entry) {
                        display.say(&format!(
                            "warning: {e}; session {} cannot be resumed automatically",
                            info.session_id
                        ));
                    }
                })
            }
            None => uploader,
        };
        let result = match &destination {
            Destination::Folder { folder_id, name } => {
                uploader
                    .upload(Source::path(&file.path), folder_id, name)
                    .await
            }
            Destination::Version { file_id } => {
                uploader.upload_version(&file.path, file_id, None).await
            }
        };
        if store.is_some() {
            self.settle(&key, result.as_ref().err());
        }
        match result.map_err(|e| Failure::Failed(describe(&e, self.credentials)))? {
            EngineOutcome::Uploaded(file) => Ok(Sent::File(Box::new(file), Outcome::Uploaded)),
            EngineOutcome::NewVersion(file) => Ok(Sent::File(Box::new(file), Outcome::NewVersion)),
            EngineOutcome::Unchanged { file_id, .. } => Ok(Sent::Unchanged { file_id }),
            EngineOutcome::Skipped { existing } => Err(Failure::Skipped {
                file_id: existing.id,
                sha1: existing.sha1,
            }),
            other => Err(Failure::Failed(format!(
                "an outcome this tool does not know: {other:?}"
            ))),
        }
    }

    /// Resumes the session recorded for `key`, if there is one that fits.
    async fn resume_recorded(
        &self,
        store: &Store,
        key: &Key,
        stamp: &SourceStamp,
        uploader: &Uploader,
        notes: &mut Vec<String>,
    ) -> Resumed {
        let entry = match store.load(key) {
            Ok(Some(entry)) => entry,
            Ok(None) => return Resumed::No,
            Err(e) => {
                notes.push(format!("{e}: starting a new upload"));
                return Resumed::No;
            }
        };
        let id = entry.session.id.clone();
        let mut forget = |note: String| {
            notes.push(note);
            let _ = store.remove(key);
        };
        if let Some(why) = entry.source.differs(stamp) {
            forget(format!(
                "not resuming session {id}: the source changed ({why}); starting over"
            ));
            self.abort_quietly(&id).await;
            return Resumed::No;
        }
        self.display.say(&format!(
            "resuming session {id} for {}",
            key.source.display()
        ));
        let result = uploader.resume(&id, Source::path(&key.source)).await;
        match result {
            Ok(file) => {
                notes.push(format!("resumed session {id}"));
                let _ = store.remove(key);
                Resumed::Done(Ok(Box::new(file)))
            }
            Err(e) if matches!(e.cause(), UploadError::SessionExpired { .. }) => {
                forget(format!(
                    "not resuming session {id}: it expired or the server does not know it; \
                     starting over"
                ));
                Resumed::No
            }
            Err(e) if matches!(e.cause(), UploadError::ResumeMismatch { .. }) => {
                forget(format!(
                    "not resuming session {id}: {}; starting over",
                    describe(&e, self.credentials)
                ));
                self.abort_quietly(&id).await;
                Resumed::No
            }
            Err(e) => {
                self.settle(key, Some(&e));
                Resumed::Done(Err(Failure::Failed(describe(&e, self.credentials))))
            }
        }
    }

    /// After a chunked upload: its entry goes, unless the session was kept to be resumed.
    fn settle(&self, key: &Key, error: Option<&UploadError>) {
        let Some(store) = &self.store else {
            return;
        };
        if error.is_none_or(|e| e.kept_session().is_none()) {
            let _ = store.remove(key);
        }
    }

    /// Aborts a session that will not be resumed, best effort: unused, it expires anyway.
    async fn abort_quietly(&self, session_id: &str) {
        let _permit = self.budget.acquire().await;
        if let Err(e) = self
            .uploader
            .client()
            .abort_upload_session(session_id)
            .await
        {
            tracing::info!(session_id, error = %e, "the old session could not be aborted");
        }
    }

    fn with_progress(&self, progress: &FileProgress) -> Uploader {
        let progress = progress.handle();
        self.uploader
            .clone()
            .on_progress(move |p| progress.update(p.uploaded_bytes))
    }
}

/// How a recorded session ended.
enum Resumed {
    Done(Result<Box<FileFull>, Failure>),
    No,
}

/// Why a file did not end well.
enum Failure {
    /// Left as it was (`--on-conflict skip`).
    Skipped {
        file_id: String,
        sha1: Option<String>,
    },
    Failed(String),
}

impl Destination {
    fn folder(folder_id: &str, name: &str) -> Destination {
        Destination::Folder {
            folder_id: folder_id.to_string(),
            name: name.to_string(),
        }
    }

    fn version(file_id: &str) -> Destination {
        Destination::Version {
            file_id: file_id.to_string(),
        }
    }

    fn outcome(&self) -> Outcome {
        match self {
            Destination::Folder { .. } => Outcome::Uploaded,
            Destination::Version { .. } => Outcome::NewVersion,
        }
    }
}

/// An error as the summary shows it, with the session kept to resume when there is one.
fn describe(error: &UploadError, credentials: &str) -> String {
    let status = error.api_error().and_then(|e| e.status());
    if status.is_some_and(|s| s.as_u16() == 401) {
        return format!("{error}; check the credentials ({credentials})");
    }
    match error.kept_session() {
        Some(id) => format!(
            "{}; session {id} is kept: run the same command again to resume it",
            error.cause()
        ),
        None => error.to_string(),
    }
}

/// The source's size and modification time now.
fn stamp_now(path: &Path) -> std::io::Result<SourceStamp> {
    let meta = std::fs::metadata(path)?;
    Ok(SourceStamp::new(meta.len(), meta.modified()?))
}

/// The SHA-1 of the file at `path`, hex.
pub async fn sha1_of(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha1::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex, as Box writes SHA-1s.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

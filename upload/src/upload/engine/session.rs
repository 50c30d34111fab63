//! A live session: its facts checked against the source, and its calls at the URLs it gave.

use super::super::error::UploadError;
use super::super::hooks::SessionInfo;
use crate::{
    Client, CommitUploadSessionRequest, CommitUploadSessionResponse, Error,
    ListUploadSessionPartsRequest, UploadPartRequest, UploadSession, operations,
};

/// The most parts an upload may have: a part size that makes more (a server choosing one
/// byte, say) would mean millions of requests and a list of parts as big as the file.
/// Box's part sizes grow with the file (8 MiB for 160 MB, 64 MiB for 4.8 GiB).
pub(crate) const MAX_PARTS: u64 = 100_000;

/// Whether `id` is written as Box writes ids (`F971964745A5CD0C001BBE4E58196BFD`, `12345`):
/// 1 to 128 ASCII letters, digits, `-` or `_`. A server-given id outside this alphabet is
/// refused, so that it never reaches a URL, a message or a command line as something else.
pub fn is_box_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A live session and what the engine needs to call it.
pub(super) struct Session {
    pub(super) client: Client,
    pub(super) id: String,
    pub(super) part_size: u64,
    pub(super) total_parts: u64,
    pub(super) size: u64,
    pub(super) upload_part: Option<String>,
    pub(super) commit: Option<String>,
    pub(super) abort: Option<String>,
    pub(super) list_parts: Option<String>,
}

impl Session {
    /// Checks the server's answer against a source of `size` bytes, and its part size
    /// against `max_part_size` and [`MAX_PARTS`].
    pub(super) fn new(
        client: &Client,
        id: String,
        answer: UploadSession,
        size: u64,
        max_part_size: u64,
        resuming: bool,
    ) -> Result<Session, UploadError> {
        let part_size = match answer.part_size {
            Some(n) if n > 0 => n as u64,
            other => {
                return Err(UploadError::Protocol {
                    session_id: Some(id),
                    what: format!("the session's part_size is {other:?}, not a positive number"),
                });
            }
        };
        // Each part is read into a buffer of its own: a part size past the limit would
        // hold more memory than the user allowed.
        if part_size.min(size) > max_part_size {
            return Err(UploadError::Protocol {
                session_id: Some(id),
                what: format!(
                    "the server chose parts of {part_size} bytes; a part may hold at most \
                     {max_part_size} (Uploader::max_part_size: memory holds about concurrency \
                     × part size)"
                ),
            });
        }
        let total_parts = size.div_ceil(part_size);
        if total_parts > MAX_PARTS {
            return Err(UploadError::Protocol {
                session_id: Some(id),
                what: format!(
                    "the server chose parts of {part_size} bytes: {total_parts} parts for a \
                     {size}-byte source, more than the {MAX_PARTS} an upload may have"
                ),
            });
        }
        if let Some(stated) = answer.total_parts
            && i64::from(stated) != total_parts as i64
        {
            let what = format!(
                "the session has {stated} parts of {part_size} bytes, but a source of {size} \
                 bytes makes {total_parts}"
            );
            return Err(if resuming {
                UploadError::ResumeMismatch {
                    session_id: id,
                    what,
                }
            } else {
                UploadError::Protocol {
                    session_id: Some(id),
                    what,
                }
            });
        }
        let endpoints = answer.session_endpoints.unwrap_or_default();
        // Refuse untrusted endpoints before anything is sent (the runtime checks every
        // call too): the session can still be aborted at the configured server.
        let runtime = client.runtime();
        for (endpoint, url, op) in [
            (
                "upload_part",
                &endpoints.upload_part,
                &operations::UPLOAD_PART,
            ),
            (
                "commit",
                &endpoints.commit,
                &operations::COMMIT_UPLOAD_SESSION,
            ),
            ("abort", &endpoints.abort, &operations::ABORT_UPLOAD_SESSION),
            (
                "list_parts",
                &endpoints.list_parts,
                &operations::LIST_UPLOAD_SESSION_PARTS,
            ),
        ] {
            if let Some(url) = url
                && let Err(source) = runtime.endpoint_at(op, url)
            {
                return Err(UploadError::UntrustedEndpoint {
                    session_id: id,
                    endpoint,
                    source,
                });
            }
        }
        Ok(Session {
            client: client.clone(),
            id,
            part_size,
            total_parts,
            size,
            upload_part: endpoints.upload_part,
            commit: endpoints.commit,
            abort: endpoints.abort,
            list_parts: endpoints.list_parts,
        })
    }

    /// What a session-created callback is told.
    pub(super) fn info(&self) -> SessionInfo {
        SessionInfo {
            session_id: self.id.clone(),
            part_size: self.part_size,
            total_parts: self.total_parts,
            size: self.size,
            upload_part_url: self.upload_part.clone(),
            commit_url: self.commit.clone(),
            abort_url: self.abort.clone(),
            list_parts_url: self.list_parts.clone(),
        }
    }

    /// Offset and length of part `index` (from 0).
    pub(super) fn part(&self, index: u64) -> (u64, usize) {
        let offset = index * self.part_size;
        (offset, (self.part_size.min(self.size - offset)) as usize)
    }

    // Session-scoped calls go to the URLs in `session_endpoints`; the templated URL is only
    // a fallback for a server that does not give one.

    pub(super) async fn upload_part(
        &self,
        request: UploadPartRequest,
    ) -> Result<crate::UploadedPart, Error> {
        match &self.upload_part {
            Some(url) => self.client.upload_part_at(url, request).await,
            None => self.client.upload_part(&self.id, request).await,
        }
    }

    pub(super) async fn commit(
        &self,
        request: CommitUploadSessionRequest,
    ) -> Result<CommitUploadSessionResponse, Error> {
        match &self.commit {
            Some(url) => self.client.commit_upload_session_at(url, request).await,
            None => self.client.commit_upload_session(&self.id, request).await,
        }
    }

    pub(super) async fn abort(&self) -> Result<(), Error> {
        match &self.abort {
            Some(url) => self.client.abort_upload_session_at(url).await,
            None => self.client.abort_upload_session(&self.id).await,
        }
    }

    pub(super) async fn list_parts(
        &self,
        request: ListUploadSessionPartsRequest,
    ) -> Result<crate::UploadParts, Error> {
        match &self.list_parts {
            Some(url) => self.client.list_upload_session_parts_at(url, request).await,
            None => {
                self.client
                    .list_upload_session_parts(&self.id, request)
                    .await
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A session answer with these sizes (`UploadSession` is only read from responses,
    /// so `#[non_exhaustive]`: it is built field by field).
    fn answer(part_size: Option<i64>, total_parts: Option<i32>) -> UploadSession {
        let mut answer = UploadSession::default();
        answer.part_size = part_size;
        answer.total_parts = total_parts;
        answer
    }

    /// A session of 25 bytes in parts of 10.
    pub(crate) fn session() -> Session {
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let answer = answer(Some(10), Some(3));
        Session::new(&client, "S1".into(), answer, 25, 10, false).expect("a session")
    }

    #[test]
    fn parts_are_cut_at_the_part_size() {
        let session = session();
        assert_eq!(session.total_parts, 3);
        assert_eq!(session.part(0), (0, 10));
        assert_eq!(session.part(2), (20, 5));
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let wrong = answer(Some(10), Some(4));
        let error = Session::new(&client, "S2".into(), wrong.clone(), 25, 10, true)
            .err()
            .expect("a mismatch");
        assert!(
            matches!(error, UploadError::ResumeMismatch { .. }),
            "{error:?}"
        );
        let no_size = UploadSession::default();
        assert!(matches!(
            Session::new(&client, "S3".into(), no_size, 25, 10, false),
            Err(UploadError::Protocol { .. })
        ));
    }

    #[test]
    fn part_sizes_are_bounded_and_ids_checked() {
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let answer = |part_size| answer(Some(part_size), None);
        let refused = |part_size, size, max| match Session::new(
            &client,
            "S".into(),
            answer(part_size),
            size,
            max,
            false,
        ) {
            Err(UploadError::Protocol { what, .. }) => what,
            other => panic!("{part_size} for {size} bytes: {:?}", other.err()),
        };
        assert!(refused(11, 25, 10).contains("parts of 11 bytes"));
        let many = refused(1, MAX_PARTS + 1, u64::MAX);
        assert!(many.contains(&format!("{} parts", MAX_PARTS + 1)), "{many}");
        // A part size above the file's is one part of the file's size.
        let one = Session::new(&client, "S".into(), answer(1000), 8, 10, false).expect("one part");
        assert_eq!((one.total_parts, one.part(0)), (1, (0, 8)));

        for id in ["F971964745A5CD0C001BBE4E58196BFD", "12345", "a-b_c"] {
            assert!(is_box_id(id), "{id}");
        }
        for id in [
            "",
            "x; rm -rf ~ #",
            "a/b",
            "../x",
            "\u{1b}[2J",
            "é",
            &"a".repeat(129),
        ] {
            assert!(!is_box_id(id), "{id:?}");
        }
    }
}

//! A live session: its facts checked against the source, and its calls at the URLs it gave.

use super::super::error::UploadError;
use crate::{
    Client, CommitUploadSessionRequest, CommitUploadSessionResponse, Error,
    ListUploadSessionPartsRequest, UploadPartRequest, UploadSession, operations,
};

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
    /// Checks the server's answer against a source of `size` bytes.
    pub(super) fn new(
        client: &Client,
        id: String,
        answer: UploadSession,
        size: u64,
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
        let total_parts = size.div_ceil(part_size);
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

    /// A session of 25 bytes in parts of 10.
    pub(crate) fn session() -> Session {
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let answer = UploadSession {
            part_size: Some(10),
            total_parts: Some(3),
            ..UploadSession::default()
        };
        Session::new(&client, "S1".into(), answer, 25, false).expect("a session")
    }

    #[test]
    fn parts_are_cut_at_the_part_size() {
        let session = session();
        assert_eq!(session.total_parts, 3);
        assert_eq!(session.part(0), (0, 10));
        assert_eq!(session.part(2), (20, 5));
        let client = Client::new(crate::Config::bearer("t")).expect("a client");
        let wrong = UploadSession {
            part_size: Some(10),
            total_parts: Some(4),
            ..UploadSession::default()
        };
        let error = Session::new(&client, "S2".into(), wrong.clone(), 25, true)
            .err()
            .expect("a mismatch");
        assert!(
            matches!(error, UploadError::ResumeMismatch { .. }),
            "{error:?}"
        );
        let no_size = UploadSession::default();
        assert!(matches!(
            Session::new(&client, "S3".into(), no_size, 25, false),
            Err(UploadError::Protocol { .. })
        ));
    }
}

//! Counters that tests read to check what a client did (for example that after a failure it
//! sent only the missing parts again).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::faults::Op;

/// A snapshot of what an emulator received and did, from [`Emulator::stats`](crate::Emulator::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Authenticated requests per operation, faulted ones included.
    pub requests: BTreeMap<Op, u64>,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Requests (of any kind) that reached the second listener.
    pub second_host_requests: u64,
    /// Parts stored (first uploads of a range).
    pub parts_stored: u64,
    /// Identical re-sends of a stored part, answered 200 without storing anything.
    pub parts_repeated: u64,
    /// Part body bytes written to part files, whether the part was then kept or refused
    /// (bytes thrown away by injected faults and early refusals are not counted).
    pub part_bytes_received: u64,
    /// Commits answered 202 (configured processing polls and injected ones).
    pub commits_accepted: u64,
    /// Files (or new versions) created by commits.
    pub files_committed: u64,
    /// Every part upload in arrival order, with the status it was answered.
    pub part_uploads: Vec<PartUpload>,
}

impl Stats {
    /// Authenticated requests of `op` ([`Op::Any`]: of all operations).
    pub fn requests(&self, op: Op) -> u64 {
        match op {
            Op::Any => self.requests.values().sum(),
            op => self.requests.get(&op).copied().unwrap_or(0),
        }
    }

    /// How many part uploads of `session_id` started at `offset`.
    pub fn part_uploads_at(&self, session_id: &str, offset: u64) -> usize {
        self.part_uploads
            .iter()
            .filter(|u| u.session_id == session_id && u.offset == Some(offset))
            .count()
    }
}

/// One part upload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartUpload {
    /// The session it named.
    pub session_id: String,
    /// The first byte of its `content-range`, if that header could be read.
    pub offset: Option<u64>,
    /// The status it was answered; `None` when no answer was sent (dropped connection, hang).
    pub status: Option<u16>,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct StatsCell(Mutex<Stats>);

impl StatsCell {
    pub fn update(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn count_request(&self, op: Op) {
        self.update(|s| *s.requests.entry(op).or_default() += 1);
    }

    pub fn snapshot(&self) -> Stats {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

//! Counters that tests read to check what a client did (for example that after a failure it
//! sent only the missing parts again).
//!
//! Everything here is bounded whatever clients send: the counters are numbers per
//! operation, and the log of part uploads holds only uploads to sessions that existed, at
//! most [`part_log_limit`](crate::EmulatorConfig::part_log_limit) of them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::faults::Op;
use crate::oauth::Grant;

/// A snapshot of what an emulator received and did, from [`Emulator::stats`](crate::Emulator::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Authenticated requests per operation, faulted ones included; for
    /// [`Op::Token`] and [`Op::Revoke`], every request that reached the token endpoint.
    pub requests: BTreeMap<Op, u64>,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// Of those, the requests whose token the emulator issued and which had expired.
    pub expired_tokens: u64,
    /// Access tokens granted by `POST /oauth2/token`, per grant.
    pub grants: BTreeMap<Grant, u64>,
    /// Token requests refused (400 with an `OAuth2Error`).
    pub grants_refused: u64,
    /// Revocations carried out (`POST /oauth2/revoke` answered 200).
    pub revocations: u64,
    /// Requests refused because their `Host` is not one of the emulator's names.
    pub misdirected: u64,
    /// Requests (of any kind) that reached the second listener.
    pub second_host_requests: u64,
    /// Parts stored (first uploads of a range).
    pub parts_stored: u64,
    /// Identical re-sends of a stored part, answered 200 without storing anything.
    pub parts_repeated: u64,
    /// Part body bytes written to part files, whether the part was then kept or refused
    /// (bytes thrown away by injected faults and early refusals are not counted).
    pub part_bytes_received: u64,
    /// Commits answered 202 (configured processing polls, unchanged versions, assemblies
    /// still running, and injected ones).
    pub commits_accepted: u64,
    /// Files (or new versions) created by commits.
    pub files_committed: u64,
    /// Files (or new versions) created by direct uploads.
    pub files_uploaded: u64,
    /// The part uploads to sessions that existed when they arrived, in arrival order, with
    /// the status each was answered; the newest
    /// [`part_log_limit`](crate::EmulatorConfig::part_log_limit) of them.
    pub part_uploads: Vec<PartUpload>,
    /// How many older entries were dropped from [`part_uploads`](Self::part_uploads).
    pub part_uploads_dropped: u64,
    /// The most requests (of any kind) that were being handled at once, from the moment
    /// their headers arrived to the moment their answer was ready: what a client that
    /// bounds its requests in flight is checked against.
    pub max_requests_in_flight: u64,
}

impl Stats {
    /// Authenticated requests of `op` ([`Op::Any`]: of all the API operations, as
    /// [`Op::ALL`] lists them: the token endpoint is not counted in).
    pub fn requests(&self, op: Op) -> u64 {
        match op {
            Op::Any => Op::ALL.iter().map(|op| self.requests(*op)).sum(),
            op => self.requests.get(&op).copied().unwrap_or(0),
        }
    }

    /// Access tokens granted with `grant`.
    pub fn grants(&self, grant: Grant) -> u64 {
        self.grants.get(&grant).copied().unwrap_or(0)
    }

    /// Access tokens granted, all grants together.
    pub fn all_grants(&self) -> u64 {
        self.grants.values().sum()
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
#[derive(Debug)]
pub(crate) struct StatsCell(Mutex<Live>);

#[derive(Debug)]
struct Live {
    stats: Stats,
    /// Requests being handled now.
    in_flight: u64,
    /// The part log, as a ring: `stats.part_uploads` stays empty until a snapshot.
    part_uploads: VecDeque<PartUpload>,
    limit: usize,
}

/// A request being handled, counted in [`Stats::max_requests_in_flight`] until dropped.
pub(crate) struct InFlight<'a>(&'a StatsCell);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut live = self.0.lock();
        live.in_flight = live.in_flight.saturating_sub(1);
    }
}

/// The place of a part upload in the log, to record its answer later.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartLogEntry(u64);

impl StatsCell {
    pub fn new(part_log_limit: usize) -> StatsCell {
        StatsCell(Mutex::new(Live {
            stats: Stats::default(),
            in_flight: 0,
            part_uploads: VecDeque::new(),
            limit: part_log_limit,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn update(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.lock().stats);
    }

    /// Counts a request being handled until the guard is dropped.
    pub fn request_in_flight(&self) -> InFlight<'_> {
        let mut live = self.lock();
        live.in_flight += 1;
        live.stats.max_requests_in_flight = live.stats.max_requests_in_flight.max(live.in_flight);
        InFlight(self)
    }

    pub fn count_request(&self, op: Op) {
        self.update(|s| *s.requests.entry(op).or_default() += 1);
    }

    /// Logs a part upload (dropping the oldest entry when the log is full).
    pub fn log_part_upload(&self, upload: PartUpload) -> PartLogEntry {
        let mut live = self.lock();
        let live = &mut *live;
        if live.part_uploads.len() >= live.limit {
            if live.part_uploads.pop_front().is_none() {
                // A limit of 0 keeps nothing.
                live.stats.part_uploads_dropped += 1;
                return PartLogEntry(live.stats.part_uploads_dropped - 1);
            }
            live.stats.part_uploads_dropped += 1;
        }
        live.part_uploads.push_back(upload);
        PartLogEntry(live.stats.part_uploads_dropped + live.part_uploads.len() as u64 - 1)
    }

    /// Records the status a logged part upload was answered, if it is still in the log.
    pub fn part_upload_answered(&self, entry: PartLogEntry, status: u16) {
        let mut live = self.lock();
        let Some(index) = entry.0.checked_sub(live.stats.part_uploads_dropped) else {
            return;
        };
        if let Some(upload) = usize::try_from(index)
            .ok()
            .and_then(|i| live.part_uploads.get_mut(i))
        {
            upload.status = Some(status);
        }
    }

    pub fn snapshot(&self) -> Stats {
        let live = self.lock();
        Stats {
            part_uploads: live.part_uploads.iter().cloned().collect(),
            ..live.stats.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(offset: u64) -> PartUpload {
        PartUpload {
            session_id: "S".into(),
            offset: Some(offset),
            status: None,
        }
    }

    #[test]
    fn the_part_log_keeps_the_newest_entries_and_their_answers() {
        let cell = StatsCell::new(3);
        let entries: Vec<_> = (0..5).map(|i| cell.log_part_upload(upload(i))).collect();
        cell.part_upload_answered(entries[0], 500); // dropped: ignored
        cell.part_upload_answered(entries[4], 200);
        let stats = cell.snapshot();
        let offsets: Vec<_> = stats.part_uploads.iter().map(|u| u.offset).collect();
        assert_eq!(offsets, [Some(2), Some(3), Some(4)]);
        assert_eq!(stats.part_uploads[2].status, Some(200));
        assert_eq!(stats.part_uploads[0].status, None);
        assert_eq!(stats.part_uploads_dropped, 2);

        let none = StatsCell::new(0);
        let entry = none.log_part_upload(upload(0));
        none.part_upload_answered(entry, 200);
        assert!(none.snapshot().part_uploads.is_empty());
        assert_eq!(none.snapshot().part_uploads_dropped, 1);
    }
}

//! Fault injection: rules that make chosen requests fail, stall or lose their connection.
//!
//! ```no_run
//! # use box_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, Op};
//! # async fn demo(emulator: &Emulator) {
//! // The first two uploads of the part at offset 0 get 503 with Retry-After: 1.
//! emulator.faults().add(
//!     FaultRule::new(Op::UploadPart, FaultAction::status(503).retry_after(1))
//!         .times(2)
//!         .at_offset(0),
//! );
//! // One request in ten, of any operation, loses its connection.
//! emulator.faults().add(
//!     FaultRule::new(Op::Any, FaultAction::DropConnection { after_bytes: 0 }).probability(0.1),
//! );
//! # }
//! ```

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The operations the emulator serves, as fault rules and [`Stats`](crate::Stats) name
/// them. (`GET /files/{id}` and its content are reads for tests, not operations.) The token
/// endpoint's [`Token`](Self::Token) and [`Revoke`](Self::Revoke) are not among the API
/// operations [`Any`](Self::Any) stands for: a rule faults them only by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Op {
    /// `POST /files/upload_sessions`.
    CreateSession,
    /// `POST /files/{file_id}/upload_sessions`.
    CreateSessionForFile,
    /// `GET /files/upload_sessions/{id}`.
    GetSession,
    /// `PUT /files/upload_sessions/{id}`.
    UploadPart,
    /// `GET /files/upload_sessions/{id}/parts`.
    ListParts,
    /// `POST /files/upload_sessions/{id}/commit`.
    Commit,
    /// `DELETE /files/upload_sessions/{id}`.
    Abort,
    /// `POST /files/content`: a direct (multipart) upload of a new file.
    UploadFile,
    /// `POST /files/{file_id}/content`: a direct upload of a new version.
    UploadFileVersion,
    /// `OPTIONS /files/content`: the preflight check of an upload.
    PreflightUpload,
    /// `POST /folders`.
    CreateFolder,
    /// `GET /folders/{folder_id}`.
    GetFolder,
    /// `GET /folders/{folder_id}/items`.
    ListFolderItems,
    /// In a rule: every operation above (the API operations, [`Op::ALL`]).
    Any,
    /// `POST /oauth2/token`, at the root of the address.
    Token,
    /// `POST /oauth2/revoke`, at the root of the address.
    Revoke,
}

impl Op {
    /// The API operations, in the order above: what [`Op::Any`] stands for.
    pub const ALL: [Op; 13] = [
        Op::CreateSession,
        Op::CreateSessionForFile,
        Op::GetSession,
        Op::UploadPart,
        Op::ListParts,
        Op::Commit,
        Op::Abort,
        Op::UploadFile,
        Op::UploadFileVersion,
        Op::PreflightUpload,
        Op::CreateFolder,
        Op::GetFolder,
        Op::ListFolderItems,
    ];
}

/// What an injected fault does to the request it hits.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer this status with a `ClientError` body of this code, before doing anything. A
    /// request body is read (and thrown away) first, so the client surely sees the answer.
    Status {
        /// The HTTP status, e.g. 429, 500, 503.
        status: u16,
        /// The `code` of the `ClientError` body.
        code: String,
        /// Seconds to send as `Retry-After`, if any.
        retry_after: Option<u64>,
    },
    /// Read this many bytes of the request body (fewer if the body is shorter), then close the
    /// connection without answering. The client sees a transport error (connection reset or
    /// closed before the response).
    DropConnection {
        /// How much of the body to read first.
        after_bytes: u64,
    },
    /// Carry out the request in full (store the part, create the session, commit the file),
    /// then close the connection instead of answering: a lost response, as a timeout or a
    /// broken network causes it.
    LoseResponse,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Read the request body at about this many bytes per second, then handle the request
    /// normally: a slow link, on which the server keeps reading while the client keeps
    /// sending (unlike [`Delay`](Self::Delay), where the connection is idle).
    SlowBody {
        /// The pace of reading.
        bytes_per_sec: u64,
    },
    /// Never answer (until the client gives up or the emulator shuts down). The request body
    /// is not read at all.
    Hang,
    /// Read this many bytes of the request body (fewer if the body is shorter), then stop
    /// reading and never answer, keeping the connection open: a server that stalls in the
    /// middle of a part. A client whose body is larger than the socket buffers stays blocked
    /// writing it; one whose body fits waits for an answer that never comes.
    StallBody {
        /// How much of the body to read first.
        after_bytes: u64,
    },
    /// Commit only: answer 202 with `Retry-After` (the configured `retry_after_secs`) and no
    /// body, as Box does while it is still processing parts.
    CommitAccepted,
    /// Commit only: answer 400 `parts_mismatch`, as Box has been seen to do right after the
    /// last part arrived.
    PartsMismatch,
    /// One of these actions, drawn by weight from the seeded random numbers of [`Faults`]
    /// each time the rule fires, among those that apply to the request (commit-only actions
    /// are drawn for commits only). The log of fired faults records the action drawn. Built
    /// with [`one_of`](Self::one_of).
    OneOf(Vec<(u32, FaultAction)>),
}

impl FaultAction {
    /// A [`Status`](Self::Status) fault with Box's generic code for that status
    /// (`too_many_requests`, `internal_server_error`, `unavailable`, ...).
    pub fn status(status: u16) -> FaultAction {
        let code = axum::http::StatusCode::from_u16(status)
            .map(crate::error::ApiError::generic_code)
            .unwrap_or("internal_server_error");
        FaultAction::Status {
            status,
            code: code.to_string(),
            retry_after: None,
        }
    }

    /// Sets `Retry-After` on a [`Status`](Self::Status) fault; other actions are unchanged.
    pub fn retry_after(mut self, secs: u64) -> FaultAction {
        if let FaultAction::Status { retry_after, .. } = &mut self {
            *retry_after = Some(secs);
        }
        self
    }

    /// A weighted choice among `choices` (weight, action), made each time the rule fires;
    /// zero weights are never drawn.
    pub fn one_of(choices: impl IntoIterator<Item = (u32, FaultAction)>) -> FaultAction {
        FaultAction::OneOf(choices.into_iter().filter(|(w, _)| *w > 0).collect())
    }

    /// Whether the action can be applied to a request of `op`.
    fn applies_to(&self, op: Op) -> bool {
        match self {
            FaultAction::CommitAccepted | FaultAction::PartsMismatch => op == Op::Commit,
            FaultAction::OneOf(choices) => choices.iter().any(|(_, a)| a.applies_to(op)),
            _ => true,
        }
    }

    /// The action to carry out on a request of `op`: itself, or for [`OneOf`](Self::OneOf)
    /// a choice drawn from `rng` among those that apply. Only called when
    /// [`applies_to`](Self::applies_to) holds.
    fn resolve(&self, op: Op, rng: &mut StdRng) -> FaultAction {
        let FaultAction::OneOf(choices) = self else {
            return self.clone();
        };
        let applicable = || choices.iter().filter(|(_, a)| a.applies_to(op));
        let total: u64 = applicable().map(|(w, _)| u64::from(*w)).sum();
        let mut draw = rng.random_range(0..total.max(1));
        for (weight, action) in applicable() {
            match draw.checked_sub(u64::from(*weight)) {
                Some(rest) => draw = rest,
                None => return action.resolve(op, rng),
            }
        }
        unreachable!("a draw below the total weight picks a choice")
    }
}

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// On the next `n` matching requests, then never again.
    Times(u32),
    /// On each matching request with this probability (0.0 to 1.0), drawn from the seeded
    /// random numbers of [`Faults`]; never exhausted.
    Probability(f64),
}

/// One fault rule: which requests it matches, what it does, how often.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The operation it matches ([`Op::Any`]: every API operation). [`FaultAction::CommitAccepted`] and
    /// [`FaultAction::PartsMismatch`] only ever match commits (and a
    /// [`FaultAction::OneOf`] only requests that one of its choices applies to).
    pub op: Op,
    /// What it does.
    pub action: FaultAction,
    /// How often it fires.
    pub trigger: Trigger,
    /// If set, it only matches part uploads whose `content-range` starts at this byte offset.
    pub offset: Option<u64>,
}

impl FaultRule {
    /// A rule that fires once on the next request of `op`.
    pub fn new(op: Op, action: FaultAction) -> FaultRule {
        FaultRule {
            op,
            action,
            trigger: Trigger::Times(1),
            offset: None,
        }
    }

    /// Fires on the next `n` matching requests.
    pub fn times(mut self, n: u32) -> FaultRule {
        self.trigger = Trigger::Times(n);
        self
    }

    /// Fires on each matching request with probability `p`, for ever.
    pub fn probability(mut self, p: f64) -> FaultRule {
        self.trigger = Trigger::Probability(p.clamp(0.0, 1.0));
        self
    }

    /// Only matches part uploads at this byte offset.
    pub fn at_offset(mut self, offset: u64) -> FaultRule {
        self.offset = Some(offset);
        self
    }

    fn matches(&self, op: Op, offset: Option<u64>) -> bool {
        let op_matches = (self.op == Op::Any && Op::ALL.contains(&op)) || self.op == op;
        let action_applies = self.action.applies_to(op);
        let offset_matches = self.offset.is_none() || self.offset == offset;
        op_matches && action_applies && offset_matches
    }
}

/// A record of one fault that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredFault {
    /// The index of the rule (the order of [`Faults::add`] calls since the last
    /// [`Faults::clear`]).
    pub rule: usize,
    /// The operation of the request it hit.
    pub op: Op,
    /// What it did (for a [`FaultAction::OneOf`], the action drawn).
    pub action: FaultAction,
    /// The session the request named, if any.
    pub session_id: Option<String>,
    /// The part offset of a part upload, if its `content-range` could be read.
    pub offset: Option<u64>,
}

impl fmt::Display for FiredFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} on {:?}", self.rule, self.op)?;
        if let Some(offset) = self.offset {
            write!(f, " at offset {offset}")?;
        }
        write!(f, ": {:?}", self.action)
    }
}

/// The fault rules of an emulator, the random numbers they draw and the log of what fired.
/// Rules are tried in the order they were added; the first that fires decides, so a
/// request meets at most one fault.
pub struct Faults {
    inner: Mutex<Inner>,
}

struct Inner {
    rules: Vec<(FaultRule, u32)>,
    seed: u64,
    rng: StdRng,
    fired: Vec<FiredFault>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("Faults")
            .field("rules", &inner.rules.len())
            .field("seed", &inner.seed)
            .field("fired", &inner.fired.len())
            .finish()
    }
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Faults {
        Faults {
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                seed,
                rng: StdRng::seed_from_u64(seed),
                fired: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule; returns its index (as [`FiredFault::rule`] reports it).
    pub fn add(&self, rule: FaultRule) -> usize {
        let mut inner = self.lock();
        inner.rules.push((rule, 0));
        inner.rules.len() - 1
    }

    /// Removes every rule. The log of fired faults is kept.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Every fault that fired so far, oldest first.
    pub fn fired(&self) -> Vec<FiredFault> {
        self.lock().fired.clone()
    }

    /// The seed of the random numbers probabilistic rules draw.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Restarts the random numbers from `seed`.
    pub fn reseed(&self, seed: u64) {
        let mut inner = self.lock();
        inner.seed = seed;
        inner.rng = StdRng::seed_from_u64(seed);
    }

    /// The action to apply to a request, if a rule fires; records it.
    pub(crate) fn take(
        &self,
        op: Op,
        session_id: Option<&str>,
        offset: Option<u64>,
    ) -> Option<FaultAction> {
        let mut inner = self.lock();
        let Inner {
            rules, rng, fired, ..
        } = &mut *inner;
        let (index, action) = rules
            .iter_mut()
            .enumerate()
            .find_map(|(i, (rule, count))| {
                if !rule.matches(op, offset) {
                    return None;
                }
                let fires = match rule.trigger {
                    Trigger::Times(n) => *count < n,
                    Trigger::Probability(p) => rng.random_bool(p),
                };
                fires.then(|| {
                    *count += 1;
                    (i, rule.action.resolve(op, rng))
                })
            })?;
        let record = FiredFault {
            rule: index,
            op,
            action: action.clone(),
            session_id: session_id.map(str::to_string),
            offset,
        };
        tracing::info!(fault = %record, "injecting a fault");
        fired.push(record);
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_rules_run_out_and_offsets_filter() {
        let faults = Faults::new(1);
        faults.add(
            FaultRule::new(Op::UploadPart, FaultAction::Hang)
                .times(2)
                .at_offset(8),
        );
        assert_eq!(faults.take(Op::UploadPart, None, Some(0)), None);
        assert_eq!(faults.take(Op::GetSession, None, None), None);
        assert_eq!(
            faults.take(Op::UploadPart, None, Some(8)),
            Some(FaultAction::Hang)
        );
        assert_eq!(
            faults.take(Op::UploadPart, None, Some(8)),
            Some(FaultAction::Hang)
        );
        assert_eq!(faults.take(Op::UploadPart, None, Some(8)), None);
        assert_eq!(faults.fired().len(), 2);
    }

    #[test]
    fn commit_only_actions_ignore_other_operations() {
        let faults = Faults::new(1);
        faults.add(FaultRule::new(Op::Any, FaultAction::CommitAccepted));
        assert_eq!(faults.take(Op::UploadPart, None, Some(0)), None);
        assert_eq!(
            faults.take(Op::Commit, Some("S"), None),
            Some(FaultAction::CommitAccepted)
        );
    }

    #[test]
    fn one_of_draws_by_weight_among_the_applicable_actions() {
        let faults = Faults::new(3);
        let mix = FaultAction::one_of([
            (3, FaultAction::status(503)),
            (1, FaultAction::Hang),
            (0, FaultAction::LoseResponse),
            (4, FaultAction::PartsMismatch),
        ]);
        faults.add(FaultRule::new(Op::Any, mix).probability(1.0));
        let mut drawn = std::collections::BTreeMap::<String, u32>::new();
        for _ in 0..400 {
            let action = faults.take(Op::UploadPart, None, Some(0)).expect("fires");
            *drawn.entry(format!("{action:?}")).or_default() += 1;
        }
        // Parts never get the commit-only choice, nor the zero-weight one: 3 to 1.
        assert_eq!(drawn.len(), 2, "{drawn:?}");
        let statuses = drawn.iter().find(|(k, _)| k.contains("503")).map(|e| *e.1);
        assert!(
            statuses.is_some_and(|n| (260..340).contains(&n)),
            "{drawn:?}"
        );
        // Commits get it too; the log holds the actions drawn, never the mix.
        let commits: Vec<_> = (0..200)
            .filter_map(|_| faults.take(Op::Commit, Some("S"), None))
            .collect();
        assert!(commits.contains(&FaultAction::PartsMismatch));
        assert!(
            faults
                .fired()
                .iter()
                .all(|f| !matches!(f.action, FaultAction::OneOf(_)))
        );
        // A mix of commit-only actions leaves other operations alone.
        let faults = Faults::new(3);
        let commit_only = FaultAction::one_of([(1, FaultAction::CommitAccepted)]);
        faults.add(FaultRule::new(Op::Any, commit_only).probability(1.0));
        assert_eq!(faults.take(Op::UploadPart, None, Some(0)), None);
        assert_eq!(
            faults.take(Op::Commit, None, None),
            Some(FaultAction::CommitAccepted)
        );
    }

    #[test]
    fn probabilities_follow_the_seed() {
        let draw = |seed| {
            let faults = Faults::new(seed);
            faults.add(FaultRule::new(Op::Any, FaultAction::status(500)).probability(0.5));
            (0..64)
                .map(|_| faults.take(Op::GetSession, None, None).is_some())
                .collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        let hits = a.iter().filter(|hit| **hit).count();
        assert!((10..54).contains(&hits), "{hits}");
    }
}

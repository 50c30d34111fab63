//! How an [`Emulator`](crate::Emulator) behaves: tokens and OAuth clients, limits, part
//! sizes, commit delays, and the bounds that protect it from slow or hostile clients.

use std::path::PathBuf;
use std::time::Duration;

use crate::oauth::OAuthClient;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// Settings of an emulator. `EmulatorConfig::default()` behaves like Box as far as it is known;
/// tests usually lower [`min_file_size`](Self::min_file_size) and fix a small
/// [`part_size`](Self::part_size) to keep files small.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// A bearer token always accepted (a developer token). With neither it nor
    /// [`clients`](Self::clients), any non-empty bearer token is accepted: then anything that
    /// can reach the port can use the emulator (the `Host` check below still keeps web pages
    /// out).
    pub token: Option<String>,
    /// The OAuth 2.0 clients (Box apps) `POST /oauth2/token` grants tokens to. Any client
    /// turns token checking on: besides [`token`](Self::token), only the access tokens the
    /// emulator issued, neither expired nor revoked, are accepted.
    pub clients: Vec<OAuthClient>,
    /// The RSA public key (PEM: SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`) that JWT
    /// assertions must be signed with. `None`: the JWT grant answers `unauthorized_client`.
    pub jwt_public_key: Option<String>,
    /// The id of that key (Box's `publicKeyID`): when set, an assertion's `kid`, if it has
    /// one, must be this.
    pub jwt_key_id: Option<String>,
    /// How long an access token the emulator issues lives (Box: about an hour). Its
    /// `expires_in` is this in whole seconds, rounded down.
    pub token_ttl: Duration,
    /// The smallest `file_size` a session may be created for (Box: 20 MB). Smaller sizes get
    /// 400 `file_size_too_small`.
    pub min_file_size: u64,
    /// How the server picks a session's `part_size`.
    pub part_size: PartSizePolicy,
    /// How many times a valid commit of each session is answered 202 (with `Retry-After`)
    /// before it is carried out. Box does this while it is still processing parts.
    pub commit_processing_polls: u32,
    /// The `Retry-After` seconds sent with those 202 answers (and with injected 202s).
    pub retry_after_secs: u64,
    /// How long a commit waits for the file to be assembled from its parts (a copy on disk,
    /// hashed on the way, that runs while the parts arrive in order) before it answers 202
    /// instead. The assembly goes on, and a later commit picks up its outcome.
    pub assembly_wait: Duration,
    /// How long a session lives after its creation (Box: 7 days).
    pub session_ttl: Duration,
    /// Serve `session_endpoints` from a second listener on another port, so a test can tell
    /// whether a client follows those URLs rather than rebuilding them.
    pub second_host: bool,
    /// The base URL written into `session_endpoints` instead of the emulator's own, such as
    /// `https://elsewhere.example/api/2.0`: a server sending clients (and their tokens) to a
    /// host they should not trust. The emulator itself does not serve it.
    pub session_endpoints_base: Option<String>,
    /// Where parts and committed files are stored. `None`: a temporary directory that the
    /// emulator deletes when it is dropped.
    pub storage_dir: Option<PathBuf>,
    /// Seed of the random numbers that probabilistic fault rules draw. `None`: a random seed,
    /// logged at start and readable through [`Faults::seed`](crate::Faults::seed).
    pub fault_seed: Option<u64>,
    /// The account's storage quota in bytes, counting the current version of every file.
    /// An upload that would pass it is refused with 403 `storage_limit_exceeded` (by the
    /// preflight check, session creation and direct uploads). `None`: unlimited.
    pub quota: Option<u64>,
    /// What the commit of a new-version session answers when the content equals the file's
    /// current version.
    pub unchanged_version: UnchangedVersion,
    /// How long a client may take to send a request's headers before its connection is
    /// closed (also the longest wait for the first request on a new connection).
    pub header_read_timeout: Duration,
    /// How long the emulator waits for more of a request body it is reading before it gives
    /// up with 408 `request_timeout` and closes the connection. Only time spent waiting on
    /// the client counts.
    pub body_idle_timeout: Duration,
    /// The most connections served at once, over both listeners; further clients wait in
    /// the kernel's accept queue until one closes.
    pub max_connections: usize,
    /// Host names accepted in the `Host` header besides loopback names and addresses and
    /// the listening address (matched without case; no port). A request naming any other
    /// host is refused with 421, so a web page cannot reach the emulator through DNS
    /// rebinding.
    pub allowed_hosts: Vec<String>,
    /// The most part uploads [`Stats::part_uploads`](crate::Stats::part_uploads) keeps; older
    /// ones are dropped first (and counted in
    /// [`Stats::part_uploads_dropped`](crate::Stats::part_uploads_dropped)).
    pub part_log_limit: usize,
    /// A simulated wide-area link: the most request-body bytes per second each
    /// connection receives. `None`: as fast as loopback goes.
    pub link_bandwidth: Option<u64>,
    /// A simulated wide-area link: how long each request waits before it is handled (a
    /// round trip's worth). Zero by default.
    pub link_latency: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            token: None,
            clients: Vec::new(),
            jwt_public_key: None,
            jwt_key_id: None,
            token_ttl: Duration::from_secs(60 * 60),
            min_file_size: 20_000_000,
            part_size: PartSizePolicy::default(),
            commit_processing_polls: 0,
            retry_after_secs: 1,
            assembly_wait: Duration::from_secs(5),
            session_ttl: Duration::from_secs(7 * 24 * 60 * 60),
            second_host: false,
            session_endpoints_base: None,
            storage_dir: None,
            fault_seed: None,
            quota: None,
            unchanged_version: UnchangedVersion::default(),
            header_read_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            allowed_hosts: Vec::new(),
            part_log_limit: 100_000,
            link_bandwidth: None,
            link_latency: Duration::ZERO,
        }
    }
}

/// The answer to the commit of a new version whose content equals the current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnchangedVersion {
    /// 202 with `Retry-After` and no body, on every commit of that session, which stays
    /// open: Box's answer (a client must stop polling and call the file unchanged).
    #[default]
    Accepted,
    /// Commit it as a new version anyway (201), like any other content.
    NewVersion,
}

/// How the server chooses `part_size` for a new session. Clients never choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartSizePolicy {
    /// A table that grows with the file, fitted to sizes Box has been seen to pick
    /// (8 MiB for a 160 MB file, 32 MiB for about 1 GB, 64 MiB for about 4.8 GiB). Box
    /// publishes no table; this one is the emulator's own:
    ///
    /// | file size | part size |
    /// |---|---|
    /// | up to 256 MiB | 8 MiB |
    /// | up to 768 MiB | 16 MiB |
    /// | up to 2 GiB | 32 MiB |
    /// | larger | 64 MiB |
    #[default]
    BoxLike,
    /// Always this many bytes (at least 1). Handy for tests with small files.
    Fixed(u64),
}

impl PartSizePolicy {
    /// The part size for a file of `file_size` bytes.
    pub fn part_size(self, file_size: u64) -> u64 {
        match self {
            PartSizePolicy::Fixed(n) => n.max(1),
            PartSizePolicy::BoxLike => match file_size {
                s if s <= 256 * MIB => 8 * MIB,
                s if s <= 768 * MIB => 16 * MIB,
                s if s <= 2 * GIB => 32 * MIB,
                _ => 64 * MIB,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_like_table_matches_sizes_seen_in_the_wild() {
        let p = PartSizePolicy::BoxLike;
        assert_eq!(p.part_size(160_000_000), 8 * MIB);
        assert_eq!(p.part_size(1_000_000_000), 32 * MIB);
        assert_eq!(p.part_size(4_800 * MIB), 64 * MIB);
        assert_eq!(PartSizePolicy::Fixed(0).part_size(10), 1);
    }
}

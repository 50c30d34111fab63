//! A local emulator of Box's upload API (upload sessions, direct uploads, new versions, the
//! preflight check), of the folder operations around it and of Box's token endpoint, for
//! tests, examples and benchmarks of clients.
//!
//! It is a second, independent implementation of the contract in
//! `shared/box-upload-protocol.md` and Box's OpenAPI description: its own serde types, no
//! generated code. Every operation is served under both roots Box uses (`/2.0` and
//! `/api/2.0`):
//!
//! - the seven upload-session operations;
//! - `POST /files/content` (a direct, `multipart/form-data` upload: `attributes` then
//!   `file`), `POST /files/{file_id}/content` (a new version), `OPTIONS /files/content`
//!   (the preflight check);
//! - `POST /folders`, `GET /folders/{folder_id}`, `GET /folders/{folder_id}/items`;
//! - `GET /files/{id}` and `GET /files/{id}/content`, to read results back;
//!
//! and, at the root of the address as on Box (`https://api.box.com/oauth2/token`), the token
//! endpoint `POST /oauth2/token` and `POST /oauth2/revoke` (see [Tokens](#tokens)).
//!
//! Parts and files are stored on disk and streamed, so gigabyte files need little memory.
//! Box's official Python SDK works against it unchanged, its CCG and JWT auth included
//! (`tests/python_sdk.rs`).
//!
//! ```no_run
//! use box_emulator::{Emulator, EmulatorConfig, PartSizePolicy};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let config = EmulatorConfig {
//!     min_file_size: 1,
//!     part_size: PartSizePolicy::Fixed(1024),
//!     ..EmulatorConfig::default()
//! };
//! let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config).await?;
//! println!("create sessions at {}/files/upload_sessions", emulator.upload_url());
//! // ... run a client against it, then inspect:
//! let file = emulator.find_file("0", "video.mov");
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Who may call
//!
//! Without [`token`](EmulatorConfig::token) (`--token`) and without
//! [`clients`](EmulatorConfig::clients) (`--client`) **any** non-empty bearer token is
//! accepted: anything that can reach the address can use the emulator. With clients, only
//! the configured `token` and the access tokens the emulator issued (neither expired nor
//! revoked) are. Web pages cannot:
//! a request whose `Host` is not `localhost`, a loopback address, the listening address or
//! an [allowed name](EmulatorConfig::allowed_hosts) is refused (DNS rebinding). Slow
//! clients are bounded: [`header_read_timeout`](EmulatorConfig::header_read_timeout),
//! [`body_idle_timeout`](EmulatorConfig::body_idle_timeout),
//! [`max_connections`](EmulatorConfig::max_connections).
//!
//! ## Tokens
//!
//! `POST /oauth2/token` and `POST /oauth2/revoke` take `application/x-www-form-urlencoded`
//! bodies (at most 64 KiB; fields the emulator does not read are ignored) and answer JSON
//! with `cache-control: no-store`. They need no bearer token. The grants, each
//! authenticated by `client_id` and `client_secret` of a configured
//! [`OAuthClient`] (`--client ID:SECRET`):
//!
//! - `client_credentials` (Box's CCG): `box_subject_type` `enterprise` or `user`,
//!   `box_subject_id` (digits);
//! - `urn:ietf:params:oauth:grant-type:jwt-bearer` (Box's JWT auth): `assertion`, a JWT
//!   signed RS256 (or RS384/RS512) with the private key of
//!   [`jwt_public_key`](EmulatorConfig::jwt_public_key) (`--jwt-public-key`, SPKI or PKCS#1
//!   PEM), whose claims are: `iss` the `client_id`; `sub` the enterprise or user id
//!   (digits); `box_sub_type` `enterprise` or `user`; `aud` Box's token URL
//!   `https://api.box.com/oauth2/token` (what Box's SDKs send whatever their base URL) or
//!   the emulator's own `http(s)://HOST/oauth2/token`; `jti` of 16 to 128 characters, not
//!   seen before while it lives; `exp` not passed and at most 60 s ahead; `nbf`, if any,
//!   passed. A `kid` header, if any, must equal [`jwt_key_id`](EmulatorConfig::jwt_key_id)
//!   when one is set (`--jwt-key-id`);
//! - `refresh_token`: `refresh_token`, one issued to the same client, by
//!   [`Emulator::issue_refresh_token`] (`--refresh-token CLIENT_ID` prints one at start) or
//!   by an earlier `refresh_token` grant. Refresh tokens rotate: each grant returns a new
//!   one and the one used is refused from then on. They last 60 days unused.
//!
//! A grant answers 200 `AccessToken`: `access_token` (32 letters and digits), `expires_in`
//! ([`token_ttl`](EmulatorConfig::token_ttl) in whole seconds, `--token-ttl`, default 3600),
//! `token_type` `bearer`, `restricted_to` `[]`, and `refresh_token` for the `refresh_token`
//! grant only (as Box: CCG and JWT give none). `issued_token_type` is left out: Box's spec
//! sends it only for down-scoped tokens. `POST /oauth2/revoke` (`client_id`,
//! `client_secret`, `token`) ends an access or refresh token and the one issued with it; it
//! answers 200 with an empty body, an unknown token included (RFC 7009).
//!
//! Refusals are 400 `OAuth2Error`, `{"error": ..., "error_description": ...}` (never a
//! secret or token in it):
//!
//! | condition | `error` |
//! |---|---|
//! | not a form; a required field missing or empty; `box_subject_type` not `enterprise`/`user` | `invalid_request` |
//! | no clients configured; unknown `client_id`; wrong `client_secret` | `invalid_client` |
//! | `grant_type` other than the three (e.g. `authorization_code`, `password`) | `unsupported_grant_type` |
//! | JWT grant without a configured public key | `unauthorized_client` |
//! | `box_subject_id` not digits | `invalid_grant` |
//! | assertion not a JWT; not RS256/384/512; `kid` not the key id; signature not by the key ("the assertion's signature does not match the public key"); each claim above (e.g. "the assertion has expired", "the assertion's exp is 120 s ahead; at most 60 s are allowed", "the assertion's jti has been used already") | `invalid_grant` |
//! | refresh token unknown, used already (rotated), revoked, expired, or another client's | `invalid_grant` |
//! | revoke: the token is another client's | `invalid_grant` |
//!
//! An API call with an access token that expired, was revoked or was never issued (while
//! clients are configured) gets 401 `unauthorized` with `WWW-Authenticate: Bearer
//! realm="Service", error="invalid_token", error_description="the access token has
//! expired"` (or `has been revoked`, `is not valid`), Box's form.
//! [`Emulator::expire_access_tokens`] ends all issued tokens at once, for tests.
//! [`Stats`] counts [`grants`](Stats::grants) per [`Grant`], refused grants, revocations,
//! 401s and, of those, [`expired_tokens`](Stats::expired_tokens); faults reach the token
//! endpoint only through rules naming [`Op::Token`] or [`Op::Revoke`].
//!
//! ## Answers
//!
//! The status and code of each refusal. Where Box documents none, the choice is the
//! emulator's own; every error body is a `ClientError` whose `request_id` equals the
//! `box-request-id` header. "Upload" is `POST /files/content`, "version"
//! `POST /files/{file_id}/content`.
//!
//! | call | condition | answer |
//! |---|---|---|
//! | any | `Host` not `localhost`, a loopback address, the listening address or an allowed name | 421 `misdirected_request` |
//! | any | no `Host` (nor an HTTP/2 authority) | 400 `bad_request` |
//! | any | no / empty / non-bearer `authorization` | 401 `unauthorized`, `WWW-Authenticate` |
//! | any | a token other than the configured one (or, for an upload, a preflight's upload token); with clients, also one the emulator did not issue, or that expired or was revoked | 401 `unauthorized`, `WWW-Authenticate` with `error="invalid_token"` |
//! | any | headers (or a new connection's first request) not complete within `header_read_timeout` (30 s) | connection closed |
//! | any | a request body the emulator reads sends no byte for `body_idle_timeout` (60 s) | 408 `request_timeout`, connection closed |
//! | any | unknown, aborted, committed or expired session | 404 `not_found` |
//! | any JSON call | body not a JSON object | 400 `bad_request` |
//! | create | `folder_id` missing or null | 400 `missing_destination` |
//! | create | `folder_id` not a string of digits | 400 `invalid_folder_id` |
//! | create | `file_name` missing or null | 400 `missing_file_name` |
//! | create (both) | `file_name` not a valid name | 400 `item_name_invalid` |
//! | create (both) | `file_size` missing or null | 400 `missing_file_size` |
//! | create (both) | `file_size` not a non-negative integer | 400 `invalid_file_size` |
//! | create (both) | `file_size` below the minimum | 400 `file_size_too_small` |
//! | create | no such folder | 404 `invalid_parameter` (the spec's code) |
//! | create new version | no such file | 404 `not_found` |
//! | create (both), commit | name taken in the folder (any case) | 409 `item_name_in_use`, `context_info.conflicts` |
//! | create (both) | `file_size` would pass the quota | 403 `storage_limit_exceeded` |
//! | upload part | `content-range` missing or malformed | 400 `bad_request` |
//! | upload part | `digest` missing or malformed | 400 `bad_request` |
//! | upload part | range does not fit the session (an empty file's included) | 416 `range_not_satisfiable`, `context_info.reason` |
//! | upload part | body length differs from the range | 400 `bad_request` |
//! | upload part | body does not match `digest` | 412 `digest_mismatch` |
//! | upload part | other bytes already stored for the range | 409 `conflict` |
//! | upload part | the same bytes again | 200, the stored part |
//! | list parts | `offset` not an integer in 0..=10000 | 400 `bad_request` |
//! | list parts | `limit` not an integer in 1..=1000 | 400 `bad_request` |
//! | commit | `digest` missing or malformed | 400 `bad_request` |
//! | commit | `parts` missing or ill-formed | 400 `bad_request` |
//! | commit | parts listed differ from parts stored, or parts missing | 400 `parts_mismatch` |
//! | commit | still "processing": the configured polls, or the file still being assembled after `assembly_wait` (5 s) | 202, `Retry-After`, no body; until the next commit the session's `num_parts_processed` stays below `total_parts` |
//! | commit | `if-match` / `if-none-match` fails | 412 `precondition_failed` |
//! | commit | whole-file SHA-1 differs from `digest` | 400 `digest_mismatch` (as Box answers) |
//! | commit | a new version whose content equals the current version | 202, `Retry-After`, no body, on every commit, with every part counted in `num_parts_processed`; the session stays open ([`UnchangedVersion::Accepted`], as Box; [`UnchangedVersion::NewVersion`] commits it) |
//! | commit | success | 201 `Files`; the session is gone (a repeated commit: 404) |
//! | abort | success | 204, no body |
//! | upload, version | not `multipart/form-data` with a boundary, or malformed | 400 `bad_request` |
//! | upload | the `file` part before `attributes` (or no `attributes`) | 400 `metadata_after_file_contents` |
//! | version | an `attributes` part after `file` (`attributes` may be left out) | 400 `metadata_after_file_contents` |
//! | upload, version | no `file` part, or two; `attributes` not a JSON object, or over 1 MiB | 400 `bad_request` |
//! | upload | `attributes.name` missing; `attributes.parent.id` missing or not a string | 400 `bad_request` |
//! | upload, version | `attributes.name` not a valid name | 400 `item_name_invalid` |
//! | upload, version | `content_created_at` / `content_modified_at` not RFC 3339 | 400 `bad_request` |
//! | upload | no such folder | 404 `not_found` |
//! | version | no such file | 404 `not_found` |
//! | version | `if-match` is not the file's etag | 412 `precondition_failed` |
//! | upload, version | name taken in the folder (any case) | 409 `item_name_in_use`, `context_info.conflicts` the item (an object, as for sessions) |
//! | upload, version | the content would pass the quota | 403 `storage_limit_exceeded` |
//! | upload, version | `content-md5` (the hex SHA-1, despite its name) differs from the content's | 400 `bad_digest` (Box's), `context_info.expected`/`actual` |
//! | upload | success (any size, empty files too) | 201 `Files` |
//! | version | success | 200 `Files` (the spec's status): same file id, new `file_version.id`, etag up by one |
//! | preflight | `size` not a non-negative integer; `parent` not an object with a string `id` | 400 `bad_request` |
//! | preflight | `name` not a valid name | 400 `item_name_invalid` |
//! | preflight | no such folder | 404 `not_found` |
//! | preflight | name taken in the folder (any case) | 409 `item_name_in_use`, `context_info.conflicts` the item |
//! | preflight | `size` would pass the quota | 403 `storage_limit_exceeded` |
//! | preflight | success (each of `name`, `size`, `parent` is checked only when given) | 200 `UploadUrl`: `upload_url` the upload root's `/files/content`, `upload_token` a bearer token for that upload, valid an hour |
//! | create folder | `name` missing; `parent.id` missing or not a string | 400 `bad_request` |
//! | create folder | `name` not a valid name (256 characters and more too) | 400 `item_name_invalid` |
//! | create folder | no such parent | 404 `not_found` |
//! | create folder | name taken by a file or folder (any case) | 409 `item_name_in_use`, `context_info.conflicts` a list holding the item (as Box answers folders) |
//! | create folder | success | 201 `Folder--Full`, an empty `item_collection` |
//! | get folder | no such folder | 404 `not_found` |
//! | get folder | success (`"0"` is the root, "All Files") | 200 `Folder--Full`, `item_collection` the first page |
//! | list items | `offset` not a non-negative integer; `limit` not 1 or more; `sort` not `id`/`name`/`date`/`size`; `direction` not `ASC`/`DESC`; `usemarker` not a boolean; `marker` without `usemarker=true`, or not one the emulator gave | 400 `bad_request` |
//! | list items | no such folder | 404 `not_found` |
//! | list items | success | 200 `Items`: folders first, then by `sort` (default `name`, without regard to case), ties by id; `limit` 100 by default, above 1000 lowered to 1000; entries in their mini form plus the `fields` asked for |
//!
//! ## Faults
//!
//! See [`Faults`] and [`FaultRule`]: injected statuses, delays, hangs, bodies that stop
//! being read midway, dropped connections, lost responses, and the commit answers Box gives
//! while it is busy; a rule fires a given number of times or with a seeded probability, and
//! [`FaultAction::one_of`] draws a kind per request from a weighted mix.

mod auth;
mod config;
mod error;
mod faults;
mod host;
mod idle_body;
mod link;
mod oauth;
mod protocol;
mod routes;
mod server;
mod stats;
mod store;
mod wire;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{EmulatorConfig, PartSizePolicy, UnchangedVersion};
pub use faults::{FaultAction, FaultRule, Faults, FiredFault, Op, Trigger};
pub use oauth::{Grant, OAuthClient};
pub use stats::{PartUpload, Stats};
pub use store::StoredFile;

use auth::Auth;
use host::AllowedHosts;
use stats::StatsCell;
use store::Store;

/// What the handlers share.
pub(crate) struct App {
    pub config: EmulatorConfig,
    pub store: Store,
    pub faults: Faults,
    pub stats: StatsCell,
    pub auth: Auth,
    pub hosts: AllowedHosts,
    /// The root `session_endpoints` point at.
    pub session_url: String,
    /// The upload root of the main listener, where the preflight check sends uploads.
    pub upload_url: String,
}

/// A running emulator. Dropping it stops its listeners (in the background) and deletes its
/// temporary storage; [`shutdown`](Self::shutdown) does the same and waits.
pub struct Emulator {
    app: Arc<App>,
    addr: SocketAddr,
    second_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    storage_dir: PathBuf,
    /// Deleted on drop, when the storage is the emulator's own.
    _temp_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("second_addr", &self.second_addr)
            .field("storage_dir", &self.storage_dir)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free port), and with
    /// [`second_host`](EmulatorConfig::second_host) a second port on the same address, then
    /// serves in background tasks of the current tokio runtime.
    pub async fn start(addr: SocketAddr, config: EmulatorConfig) -> std::io::Result<Emulator> {
        let (storage_dir, temp_dir) = match &config.storage_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new().prefix("box-emulator-").tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let second = match config.second_host {
            true => Some(TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?),
            false => None,
        };
        let second_addr = second.as_ref().map(TcpListener::local_addr).transpose()?;
        let seed = config.fault_seed.unwrap_or_else(rand::random);
        tracing::info!(seed, "fault injection seed");
        // A proxy that serves `session_endpoints_base` may forward its name.
        let base_host = config
            .session_endpoints_base
            .as_deref()
            .and_then(|base| base.split_once("://"))
            .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
            .map(str::to_string);
        let app = Arc::new(App {
            store: Store::new(storage_dir.clone(), &config)?,
            faults: Faults::new(seed),
            stats: StatsCell::new(config.part_log_limit),
            auth: Auth::new(&config)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
            hosts: AllowedHosts::new(
                vec![addr.ip()],
                config.allowed_hosts.iter().cloned().chain(base_host),
            ),
            session_url: config
                .session_endpoints_base
                .clone()
                .unwrap_or_else(|| format!("{}/api/2.0", base_url(second_addr.unwrap_or(addr)))),
            upload_url: format!("{}/api/2.0", base_url(addr)),
            config,
        });
        let limits = server::Limits {
            connections: Arc::new(tokio::sync::Semaphore::new(app.config.max_connections)),
            header_read_timeout: app.config.header_read_timeout,
            body_idle_timeout: app.config.body_idle_timeout,
            link_bandwidth: app.config.link_bandwidth,
            link_latency: app.config.link_latency,
        };
        let router = routes::router(app.clone());
        let (shutdown, _) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(server::serve(
            listener,
            router.clone(),
            false,
            limits.clone(),
            shutdown.subscribe(),
        ))];
        if let Some(second) = second {
            tasks.push(tokio::spawn(server::serve(
                second,
                router,
                true,
                limits,
                shutdown.subscribe(),
            )));
        }
        Ok(Emulator {
            app,
            addr,
            second_addr,
            shutdown,
            tasks,
            storage_dir,
            _temp_dir: temp_dir,
        })
    }

    /// The address of the main listener.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the second listener, if configured.
    pub fn second_addr(&self) -> Option<SocketAddr> {
        self.second_addr
    }

    /// The API root, `http://127.0.0.1:PORT/2.0` (Box: `https://api.box.com/2.0`).
    pub fn api_url(&self) -> String {
        format!("{}/2.0", base_url(self.addr))
    }

    /// The upload root, `http://127.0.0.1:PORT/api/2.0` (Box: `https://upload.box.com/api/2.0`),
    /// where sessions are created.
    pub fn upload_url(&self) -> String {
        format!("{}/api/2.0", base_url(self.addr))
    }

    /// The root under which the token endpoint lives, `http://127.0.0.1:PORT` (Box:
    /// `https://api.box.com`): tokens are granted at `{oauth_url}/oauth2/token` and revoked
    /// at `{oauth_url}/oauth2/revoke`.
    pub fn oauth_url(&self) -> String {
        base_url(self.addr)
    }

    /// A new refresh token for the configured client `client_id`, as the authorization of
    /// a Box app by a user hands out (the emulator has no authorization page). It lasts 60
    /// days unused and can be exchanged once: each exchange returns the next one.
    ///
    /// # Panics
    /// If no client in [`clients`](EmulatorConfig::clients) has that id (a broken test
    /// setup).
    pub fn issue_refresh_token(&self, client_id: &str) -> String {
        self.app
            .auth
            .tokens()
            .issue_refresh_token(client_id)
            .unwrap_or_else(|| panic!("issue_refresh_token: no client has the id {client_id:?}"))
    }

    /// Makes every access token the emulator has issued so far expire now (later requests
    /// with them get 401 `invalid_token`), without waiting for
    /// [`token_ttl`](EmulatorConfig::token_ttl).
    pub fn expire_access_tokens(&self) {
        self.app.auth.tokens().expire_access_tokens();
    }

    /// The root that `session_endpoints` use: the second listener's `/api/2.0` with
    /// [`second_host`](EmulatorConfig::second_host), else [`upload_url`](Self::upload_url).
    /// Session calls are served under every root of both listeners.
    pub fn session_url(&self) -> String {
        self.app.session_url.clone()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.app.config
    }

    /// Where parts and files are stored.
    pub fn storage_dir(&self) -> &Path {
        &self.storage_dir
    }

    /// Fault injection: add rules, read what fired.
    pub fn faults(&self) -> &Faults {
        &self.app.faults
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.app.stats.snapshot()
    }

    /// The file `file_id` (its current version), if it exists.
    pub fn committed_file(&self, file_id: &str) -> Option<StoredFile> {
        self.app.store.stored_file(file_id)
    }

    /// The file named exactly `name` in folder `folder_id`, if any.
    pub fn find_file(&self, folder_id: &str, name: &str) -> Option<StoredFile> {
        self.app.store.find_file(folder_id, name)
    }

    /// The ids of the sessions still open: neither committed, aborted nor expired. Sorted.
    pub fn open_sessions(&self) -> Vec<String> {
        self.app.store.open_sessions()
    }

    /// Creates folder `name` in `parent_id` and returns its id; returns the existing folder's
    /// id if there is one of that name. The root folder is `"0"`.
    ///
    /// # Panics
    /// If `parent_id` does not exist or a file is named `name` there (a broken test setup).
    pub fn create_folder(&self, parent_id: &str, name: &str) -> String {
        self.app
            .store
            .create_folder(parent_id, name)
            .unwrap_or_else(|e| panic!("create_folder: {e}"))
    }

    /// Creates a file with this content directly, without an upload (to test new versions
    /// and name clashes).
    ///
    /// # Panics
    /// If `folder_id` does not exist, the name is taken, or the file cannot be written.
    pub fn create_file(&self, folder_id: &str, name: &str, content: &[u8]) -> StoredFile {
        self.app
            .store
            .create_file(folder_id, name, content)
            .unwrap_or_else(|e| panic!("create_file: {e}"))
    }

    /// Makes session `id` expire now: from then on it answers 404 and its parts are deleted.
    pub fn expire_session(&self, id: &str) {
        self.app.store.expire_session(id);
    }

    /// Stops the listeners, closes every connection and waits for that.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// `http://IP:PORT`, with the loopback address in place of an unspecified one.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

//! OAuth 2.0 refresh tokens with rotation: each refresh spends the refresh token and
//! brings a new one, which a [`TokenStore`] keeps before the new access token is used.

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use box_api::PostOAuth2TokenGrantType;
use oas_runtime::{AuthError, Grant, GrantedToken, TokenCache};
use secrecy::{ExposeSecret, SecretString};

use super::endpoint::{TokenEndpoint, token_form};

/// Where the latest refresh token is kept. A refresh token is spent by its use: the one
/// a refresh brings must be saved before anything else, or the account is locked out
/// until someone signs in again.
pub trait TokenStore: Send + Sync + 'static {
    /// The latest refresh token, if any.
    fn load(&self) -> Result<Option<SecretString>, StoreError>;
    /// Keeps `refresh_token` in place of the previous one; returns once it is durable.
    fn save(&self, refresh_token: &SecretString) -> Result<(), StoreError>;
}

/// A refresh token could not be loaded or saved. Never holds the token.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<std::io::Error>,
}

impl StoreError {
    fn io(message: String, source: std::io::Error) -> StoreError {
        StoreError {
            message,
            source: Some(source),
        }
    }
}

/// A [`TokenStore`] in memory, for a process that signs in anew each time.
#[derive(Default)]
pub struct MemoryTokenStore(Mutex<Option<SecretString>>);

impl MemoryTokenStore {
    /// A store that holds `refresh_token`.
    pub fn new(refresh_token: impl Into<String>) -> MemoryTokenStore {
        MemoryTokenStore(Mutex::new(Some(SecretString::from(refresh_token.into()))))
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<SecretString>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn save(&self, refresh_token: &SecretString) -> Result<(), StoreError> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(refresh_token.clone());
        Ok(())
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryTokenStore(<redacted>)")
    }
}

/// A [`TokenStore`] in a file readable by its owner only (mode `0600` on Unix, in a
/// directory created `0700`), replaced atomically (a temporary file in the same
/// directory, synced, then renamed), so a crash leaves the old token or the new one.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// A store in the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileTokenStore {
        FileTokenStore { path: path.into() }
    }

    /// The default file: `refresh-token` in this program's state directory (XDG
    /// `$XDG_STATE_HOME/box-upload` on Linux), else its configuration directory.
    /// `None` when the system names no home directory.
    pub fn default_path() -> Option<PathBuf> {
        let dirs = directories::ProjectDirs::from("com", "box-upload", "box-upload")?;
        let dir = dirs.state_dir().unwrap_or_else(|| dirs.config_dir());
        Some(dir.join("refresh-token"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<SecretString>, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(SecretString::from)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(
                format!(
                    "cannot read the refresh-token store {}",
                    self.path.display()
                ),
                e,
            )),
        }
    }

    fn save(&self, refresh_token: &SecretString) -> Result<(), StoreError> {
        let fail = |e| {
            StoreError::io(
                format!(
                    "cannot write the refresh-token store {}",
                    self.path.display()
                ),
                e,
            )
        };
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        create_private_dir(dir).map_err(fail)?;
        // `tempfile` creates the file readable by its owner only.
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        file.write_all(refresh_token.expose_secret().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.as_file().sync_all())
            .map_err(fail)?;
        file.persist(&self.path).map_err(|e| fail(e.error))?;
        // The rename is durable once the directory is synced.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The refresh-token grant (`grant_type=refresh_token`), with rotation.
///
/// ```no_run
/// use std::sync::Arc;
/// use box_upload::auth::{MemoryTokenStore, RefreshTokenGrant, TokenEndpoint};
/// use box_upload::{Client, Config};
///
/// let store = Arc::new(MemoryTokenStore::new("refresh-token"));
/// let grant = RefreshTokenGrant::new(TokenEndpoint::box_default(), "client-id", "secret", store);
/// let client = Client::new(Config::new(grant.into_provider()))?;
/// # Ok::<(), oas_runtime::ConfigError>(())
/// ```
pub struct RefreshTokenGrant {
    endpoint: TokenEndpoint,
    client_id: String,
    client_secret: SecretString,
    store: Arc<dyn TokenStore>,
}

impl RefreshTokenGrant {
    /// The grant of the app `client_id`, whose refresh token is in `store`.
    pub fn new(
        endpoint: TokenEndpoint,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        store: Arc<dyn TokenStore>,
    ) -> RefreshTokenGrant {
        RefreshTokenGrant {
            endpoint,
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            store,
        }
    }

    /// A token provider that asks this grant once per token lifetime (and so spends one
    /// refresh token per lifetime).
    pub fn into_provider(self) -> TokenCache<RefreshTokenGrant> {
        TokenCache::new(self)
    }
}

impl Grant for RefreshTokenGrant {
    fn name(&self) -> &str {
        "refresh-token grant"
    }

    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
        Box::pin(async move {
            let store_error =
                |e: StoreError| AuthError::with_source(format!("the {}: {e}", self.name()), e);
            let refresh_token = self.store.load().map_err(store_error)?.ok_or_else(|| {
                AuthError::new(format!(
                    "the {}: there is no refresh token in the store (sign in again)",
                    self.name()
                ))
            })?;
            let mut form = token_form(PostOAuth2TokenGrantType::RefreshToken);
            form.refresh_token = Some(refresh_token.expose_secret().to_owned());
            form.client_id = Some(self.client_id.clone());
            form.client_secret = Some(self.client_secret.expose_secret().to_owned());
            let answer = self.endpoint.request(self.name(), &form).await?;
            // Saved before the access token is used: the old refresh token is spent.
            if let Some(next) = &answer.refresh_token {
                self.store.save(next).map_err(store_error)?;
            }
            Ok(answer.granted)
        })
    }
}

/// Never shows a secret.
impl fmt::Debug for RefreshTokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenGrant")
            .field("endpoint", &self.endpoint.token_url())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

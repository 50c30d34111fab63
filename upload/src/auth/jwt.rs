//! Box's JWT grant ("server authentication"): an assertion signed (RS256) with the app's
//! private key from the app-config JSON Box's developer console downloads.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use box_api::PostOAuth2TokenGrantType;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oas_runtime::{AuthError, Grant, GrantedToken, TokenCache};
use pkcs8::der::Decode;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, SecretDocument};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::endpoint::{Subject, TokenEndpoint, token_form};

/// How long an assertion is valid; Box accepts at most 60 s.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(30);

/// The OID of `rsaEncryption`, the only key algorithm Box's JWT grant takes.
const RSA_ENCRYPTION: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Box's app-config JSON for JWT, read: what the grant needs. Never shows its secrets.
#[derive(Clone)]
pub struct JwtAppConfig {
    /// `boxAppSettings.clientID`.
    pub client_id: String,
    client_secret: SecretString,
    /// `boxAppSettings.appAuth.publicKeyID`: the `kid` of the assertions.
    pub public_key_id: String,
    private_key: SecretString,
    passphrase: SecretString,
    /// `enterpriseID`, when the app is installed in an enterprise.
    pub enterprise_id: Option<String>,
}

/// Box's app-config file, as its console writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppConfigFile {
    box_app_settings: AppSettings,
    #[serde(rename = "enterpriseID", default)]
    enterprise_id: Option<String>,
}

#[derive(Deserialize)]
struct AppSettings {
    #[serde(rename = "clientID")]
    client_id: String,
    #[serde(rename = "clientSecret")]
    client_secret: String,
    #[serde(rename = "appAuth")]
    app_auth: AppAuth,
}

#[derive(Deserialize)]
struct AppAuth {
    #[serde(rename = "publicKeyID")]
    public_key_id: String,
    #[serde(rename = "privateKey")]
    private_key: String,
    #[serde(default)]
    passphrase: Option<String>,
}

/// Box's app config or its private key cannot be used. Never holds a secret.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppConfigError {
    message: String,
}

impl AppConfigError {
    fn new(message: impl Into<String>) -> AppConfigError {
        AppConfigError {
            message: message.into(),
        }
    }
}

impl JwtAppConfig {
    /// Reads Box's app-config JSON from `path`.
    pub fn from_file(path: &Path) -> Result<JwtAppConfig, AppConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppConfigError::new(format!(
                "cannot read the Box app config {}: {e}",
                path.display()
            ))
        })?;
        JwtAppConfig::from_json(&text, &path.display().to_string())
    }

    /// Reads Box's app-config JSON; `source` names it in errors (such as its path).
    pub fn from_json(text: &str, source: &str) -> Result<JwtAppConfig, AppConfigError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        // Errors name the place, never a value (serde_json's messages quote no input
        // string values for these types).
        let file: AppConfigFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let pointer = e.path().iter().map(|s| format!("/{s}")).collect::<String>();
            AppConfigError::new(format!(
                "the Box app config {source} is not valid at {}: {}",
                if pointer.is_empty() {
                    "/".into()
                } else {
                    pointer
                },
                e.inner().classify_message()
            ))
        })?;
        let settings = file.box_app_settings;
        let non_empty = |value: &str, pointer: &str| {
            if value.trim().is_empty() {
                Err(AppConfigError::new(format!(
                    "the Box app config {source} has an empty {pointer}"
                )))
            } else {
                Ok(())
            }
        };
        non_empty(&settings.client_id, "/boxAppSettings/clientID")?;
        non_empty(&settings.client_secret, "/boxAppSettings/clientSecret")?;
        non_empty(
            &settings.app_auth.public_key_id,
            "/boxAppSettings/appAuth/publicKeyID",
        )?;
        non_empty(
            &settings.app_auth.private_key,
            "/boxAppSettings/appAuth/privateKey",
        )?;
        Ok(JwtAppConfig {
            client_id: settings.client_id,
            client_secret: settings.client_secret.into(),
            public_key_id: settings.app_auth.public_key_id,
            private_key: settings.app_auth.private_key.into(),
            passphrase: settings.app_auth.passphrase.unwrap_or_default().into(),
            enterprise_id: file.enterprise_id.filter(|id| !id.is_empty()),
        })
    }
}

/// A one-line error message of serde_json, without its position (the path says where).
trait ClassifyMessage {
    fn classify_message(&self) -> String;
}

impl ClassifyMessage for serde_json::Error {
    fn classify_message(&self) -> String {
        match self.classify() {
            serde_json::error::Category::Io => "cannot be read".into(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("not JSON (line {}, column {})", self.line(), self.column())
            }
            // `missing field `x``, `invalid type: …, expected a string`: no values.
            serde_json::error::Category::Data => {
                let text = self.to_string();
                text.split(" at line ").next().unwrap_or(&text).to_owned()
            }
        }
    }
}

/// Box's JWT grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
///
/// ```no_run
/// use box_upload::auth::{JwtAppConfig, JwtGrant, TokenEndpoint};
/// use box_upload::{Client, Config};
///
/// let app = JwtAppConfig::from_file("config.json".as_ref())?;
/// let grant = JwtGrant::new(TokenEndpoint::box_default(), &app, None)?;
/// let client = Client::new(Config::new(grant.into_provider()))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct JwtGrant {
    endpoint: TokenEndpoint,
    client_id: String,
    client_secret: SecretString,
    key_id: String,
    key: EncodingKey,
    subject: Subject,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

/// The claims of an assertion.
#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    box_sub_type: &'a str,
    aud: &'a str,
    jti: String,
    exp: u64,
}

impl JwtGrant {
    /// The grant of `app`, for `subject`, or else for the app's enterprise.
    ///
    /// Fails when neither names a subject, or when the private key cannot be read
    /// (not PEM, not RSA, a wrong passphrase).
    pub fn new(
        endpoint: TokenEndpoint,
        app: &JwtAppConfig,
        subject: Option<Subject>,
    ) -> Result<JwtGrant, AppConfigError> {
        let subject = subject
            .or_else(|| app.enterprise_id.clone().map(Subject::Enterprise))
            .ok_or_else(|| {
                AppConfigError::new(
                    "the Box app config has no enterpriseID: name the user or enterprise \
                     the token is for",
                )
            })?;
        let key = rsa_signing_key(&app.private_key, &app.passphrase)?;
        let grant = JwtGrant {
            endpoint,
            client_id: app.client_id.clone(),
            client_secret: app.client_secret.clone(),
            key_id: app.public_key_id.clone(),
            key,
            subject,
            clock: Arc::new(SystemTime::now),
        };
        // Signs once now, so that a key the signer refuses (too short, broken) is
        // reported here rather than at the first token.
        grant
            .assertion()
            .map_err(|e| AppConfigError::new(e.message().to_owned()))?;
        Ok(grant)
    }

    /// Replaces the clock the assertions' `exp` is computed from (for tests of a
    /// clock that runs behind).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> JwtGrant {
        self.clock = Arc::new(clock);
        self
    }

    /// A token provider that asks this grant once per token lifetime.
    pub fn into_provider(self) -> TokenCache<JwtGrant> {
        TokenCache::new(self)
    }

    /// A new signed assertion (a secret: it obtains a token once).
    fn assertion(&self) -> Result<String, AuthError> {
        let now = (self.clock)()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let kind = self.subject.kind();
        let claims = Claims {
            iss: &self.client_id,
            sub: self.subject.id(),
            box_sub_type: kind.as_str(),
            aud: self.endpoint.token_url(),
            jti: random_jti(),
            exp: (now + ASSERTION_LIFETIME).as_secs(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            AuthError::new(format!(
                "the JWT grant cannot sign its assertion with the app's private key ({})",
                e.kind_name()
            ))
        })
    }
}

/// 32 random hex digits: Box wants a `jti` of 16 to 128 characters, never reused.
fn random_jti() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The kind of a jsonwebtoken error, without any input.
trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for jsonwebtoken::errors::Error {
    fn kind_name(&self) -> String {
        match self.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => "not a valid RSA key".into(),
            jsonwebtoken::errors::ErrorKind::InvalidKeyFormat => "not a valid key format".into(),
            other => format!("{other:?}").chars().take(80).collect(),
        }
    }
}

/// The app's private key as an RS256 signing key: PKCS#8 PEM, encrypted with
/// `passphrase` (`ENCRYPTED PRIVATE KEY`) or not (`PRIVATE KEY`), or PKCS#1
/// (`RSA PRIVATE KEY`).
fn rsa_signing_key(
    pem: &SecretString,
    passphrase: &SecretString,
) -> Result<EncodingKey, AppConfigError> {
    let bad = |what: &str| {
        AppConfigError::new(format!(
            "the private key of the Box app config (/boxAppSettings/appAuth/privateKey) {what}"
        ))
    };
    // Box's console writes the PEM with `\n` escapes, which JSON has already turned
    // into line breaks; a key pasted with literal `\n` is accepted too.
    let pem = pem.expose_secret().replace("\\n", "\n");
    let (label, document) =
        SecretDocument::from_pem(pem.trim()).map_err(|_| bad("is not a PEM block"))?;
    let pkcs1_of = |der: &[u8]| -> Result<Vec<u8>, AppConfigError> {
        let info = PrivateKeyInfo::from_der(der).map_err(|_| bad("is not a PKCS#8 key"))?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(bad("is not an RSA key"));
        }
        Ok(info.private_key.to_vec())
    };
    let pkcs1 = match label {
        "ENCRYPTED PRIVATE KEY" => {
            if passphrase.expose_secret().is_empty() {
                return Err(bad("is encrypted and the config has no passphrase"));
            }
            let encrypted = EncryptedPrivateKeyInfo::from_der(document.as_bytes())
                .map_err(|_| bad("is not an encrypted PKCS#8 key"))?;
            let decrypted = encrypted
                .decrypt(passphrase.expose_secret().as_bytes())
                .map_err(|_| {
                    bad("cannot be decrypted with the config's passphrase (wrong passphrase, or an unsupported cipher)")
                })?;
            pkcs1_of(decrypted.as_bytes())?
        }
        "PRIVATE KEY" => pkcs1_of(document.as_bytes())?,
        "RSA PRIVATE KEY" => document.as_bytes().to_vec(),
        _ => return Err(bad("is a PEM block of another kind (expected PRIVATE KEY)")),
    };
    Ok(EncodingKey::from_rsa_der(&pkcs1))
}

impl Grant for JwtGrant {
    fn name(&self) -> &str {
        "JWT grant"
    }

    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
        Box::pin(async move {
            let mut form =
                token_form(PostOAuth2TokenGrantType::UrnIetfParamsOauthGrantTypeJwtBearer);
            form.assertion = Some(self.assertion()?);
            form.client_id = Some(self.client_id.clone());
            form.client_secret = Some(self.client_secret.expose_secret().to_owned());
            Ok(self.endpoint.request(self.name(), &form).await?.granted)
        })
    }
}

/// Never shows a secret.
impl fmt::Debug for JwtGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtGrant")
            .field("endpoint", &self.endpoint.token_url())
            .field("client_id", &self.client_id)
            .field("key_id", &self.key_id)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Never shows a secret.
impl fmt::Debug for JwtAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAppConfig")
            .field("client_id", &self.client_id)
            .field("public_key_id", &self.public_key_id)
            .field("enterprise_id", &self.enterprise_id)
            .finish_non_exhaustive()
    }
}

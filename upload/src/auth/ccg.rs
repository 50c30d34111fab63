//! Box's Client Credentials Grant: the app's client ID and secret, for its enterprise's
//! service account or one of its users.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use box_api::PostOAuth2TokenGrantType;
use oas_runtime::{AuthError, Grant, GrantedToken, TokenCache};
use secrecy::{ExposeSecret, SecretString};

use super::endpoint::{Subject, TokenEndpoint, token_form};

/// The Client Credentials Grant (`grant_type=client_credentials`).
///
/// ```no_run
/// use box_upload::auth::{ClientCredentials, Subject, TokenEndpoint};
/// use box_upload::{Client, Config};
///
/// let grant = ClientCredentials::new(TokenEndpoint::box_default(), "client-id", "secret", Subject::Enterprise("123".into()));
/// let client = Client::new(Config::new(grant.into_provider()))?;
/// # Ok::<(), oas_runtime::ConfigError>(())
/// ```
pub struct ClientCredentials {
    endpoint: TokenEndpoint,
    client_id: String,
    client_secret: SecretString,
    subject: Subject,
}

impl ClientCredentials {
    /// The grant of the app `client_id` for `subject`.
    pub fn new(
        endpoint: TokenEndpoint,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        subject: Subject,
    ) -> ClientCredentials {
        ClientCredentials {
            endpoint,
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            subject,
        }
    }

    /// A token provider that asks this grant once per token lifetime.
    pub fn into_provider(self) -> TokenCache<ClientCredentials> {
        TokenCache::new(self)
    }
}

impl Grant for ClientCredentials {
    fn name(&self) -> &str {
        "client-credentials grant"
    }

    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<GrantedToken, AuthError>> + Send + '_>> {
        Box::pin(async move {
            let mut form = token_form(PostOAuth2TokenGrantType::ClientCredentials);
            form.client_id = Some(self.client_id.clone());
            form.client_secret = Some(self.client_secret.expose_secret().to_owned());
            form.box_subject_type = Some(self.subject.kind());
            form.box_subject_id = Some(self.subject.id().to_owned());
            Ok(self.endpoint.request(self.name(), &form).await?.granted)
        })
    }
}

/// Never shows the secret.
impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("endpoint", &self.endpoint.token_url())
            .field("client_id", &self.client_id)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

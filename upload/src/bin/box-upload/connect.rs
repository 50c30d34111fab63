//! Where uploads go and with which credentials, from the environment; with none, a Box
//! emulator started on loopback for the length of the run (feature `embedded-emulator`).

#[cfg(feature = "embedded-emulator")]
use box_upload::Config;
use box_upload::{Client, servers};

/// A client and the hosts it calls.
pub struct Connection {
    pub client: Client,
    /// The upload root, part of the resume state's key.
    pub upload_url: String,
    /// The variables the credentials came from, for a message after a 401.
    pub credentials: &'static str,
    /// The emulator this run started, if it runs against one.
    #[cfg(feature = "embedded-emulator")]
    pub emulator: Option<box_emulator::Emulator>,
}

impl Connection {
    /// Whether uploads go to an emulator that ends with this run (whose sessions cannot be
    /// resumed by another run).
    pub fn is_ephemeral(&self) -> bool {
        #[cfg(feature = "embedded-emulator")]
        return self.emulator.is_some();
        #[cfg(not(feature = "embedded-emulator"))]
        false
    }
}

/// A variable's value, when set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The client for the environment's credentials (one kind, picked by
/// `box_upload::auth::from_env`: `BOX_TOKEN`, the Client Credentials Grant, JWT or a
/// refresh token; `BOX_OAUTH_URL`, `BOX_AS_USER`) and hosts (`BOX_API_URL`,
/// `BOX_UPLOAD_URL`), or for an embedded emulator when no credentials are set. `say`
/// tells the user which.
pub async fn connect(say: impl Fn(&str)) -> Result<Connection, String> {
    let auth = box_upload::auth::from_env().map_err(|e| format!("the credentials: {e}"))?;
    let Some(auth) = auth else {
        return embedded(say).await;
    };
    let mut config = auth.config();
    let upload_url = var("BOX_UPLOAD_URL");
    // A host that serves uploads elsewhere (an emulator) serves the API too, by default.
    if let Some(url) = var("BOX_API_URL").or_else(|| upload_url.clone()) {
        config = config.base_url(&servers::API, url);
    }
    if let Some(url) = &upload_url {
        config = config
            .base_url(&servers::UPLOAD, url.clone())
            .base_url(&servers::UPLOAD_SESSION, url.clone());
    }
    let client = Client::new(config).map_err(|e| format!("the configuration: {e}"))?;
    tracing::info!(
        credentials = auth.kind(),
        from = auth.variables(),
        "signed in"
    );
    Ok(Connection {
        client,
        upload_url: upload_url.unwrap_or_else(|| servers::UPLOAD.url_template.to_string()),
        credentials: auth.variables(),
        #[cfg(feature = "embedded-emulator")]
        emulator: None,
    })
}

#[cfg(feature = "embedded-emulator")]
async fn embedded(say: impl Fn(&str)) -> Result<Connection, String> {
    use box_emulator::{Emulator, EmulatorConfig};
    let emulator = Emulator::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        EmulatorConfig::default(),
    )
    .await
    .map_err(|e| format!("cannot start the local emulator: {e}"))?;
    say(&format!(
        "no Box credentials are set (BOX_TOKEN, BOX_CLIENT_ID, BOX_JWT_CONFIG…): uploading \
         to a local Box emulator at {} instead; it stops when this program ends, and its \
         files with it",
        emulator.api_url()
    ));
    let upload_url = emulator.upload_url();
    let config = Config::bearer("emulator")
        .base_url(&servers::API, emulator.api_url())
        .base_url(&servers::UPLOAD, upload_url.clone())
        .base_url(&servers::UPLOAD_SESSION, upload_url.clone());
    let client = Client::new(config).map_err(|e| format!("the configuration: {e}"))?;
    Ok(Connection {
        client,
        upload_url,
        credentials: "the embedded emulator's token",
        emulator: Some(emulator),
    })
}

#[cfg(not(feature = "embedded-emulator"))]
async fn embedded(_say: impl Fn(&str)) -> Result<Connection, String> {
    Err(
        "no Box credentials are set (BOX_TOKEN, BOX_CLIENT_ID, BOX_JWT_CONFIG…; see --help), \
         and this build has no embedded emulator"
            .into(),
    )
}

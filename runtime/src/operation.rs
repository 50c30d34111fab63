//! Static descriptions of servers and operations, emitted by the generator.

use http::Method;

/// A server of the API description, global or specific to some operations.
///
/// The generator emits one `static` per server. The base URL of a server is
/// its [`url_template`](Self::url_template) with every `{name}` replaced by
/// the value given to [`Config::server_variable`](crate::Config::server_variable),
/// or else by the variable's default; [`Config::base_url`](crate::Config::base_url)
/// replaces the whole URL instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    /// A name for the server, used in error messages.
    pub name: &'static str,
    /// The URL of the server, possibly with `{name}` placeholders.
    pub url_template: &'static str,
    /// The variables that the placeholders of the template name.
    pub variables: &'static [ServerVariable],
    /// Host patterns, besides the host of the URL itself, that a URL given
    /// by this server for one of its operations may point at (see
    /// [`Client::endpoint_at`](crate::Client::endpoint_at) and
    /// [`Config::trust_host`](crate::Config::trust_host) for the syntax).
    pub trusted_hosts: &'static [&'static str],
}

/// A variable of a [`Server`] URL template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerVariable {
    /// The name of the placeholder, without braces.
    pub name: &'static str,
    /// The value used when the configuration gives none.
    pub default: &'static str,
}

/// The static facts of one operation, emitted by the generator.
///
/// Not `Copy`, because [`Method`] is not; the generator emits a `static`
/// and passes `&OPERATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The `operationId` of the operation.
    pub id: &'static str,
    /// The HTTP method of the operation.
    pub method: Method,
    /// The path template, such as `/items/{item_id}`, for tracing and
    /// messages. Never the filled path.
    pub path_template: &'static str,
    /// The server that serves the operation.
    pub server: &'static Server,
    /// Whether sending the request twice has the same effect as sending it
    /// once, which makes a retry safe.
    pub idempotent: bool,
    /// Whether the request carries the access token. `false` for operations the API
    /// description says need none (`security: []`), such as a token endpoint: the
    /// [`TokenProvider`](crate::TokenProvider) is then not asked, and no
    /// `Authorization` header is sent.
    pub auth: bool,
}

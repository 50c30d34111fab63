//! `client.rs`: the servers and the static facts of each operation, the operations'
//! request and response types, and the `Client` with one async method per operation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs::{docs, shown};
use super::operation_types::emit_operation_types;
use super::send::{emit_send, path_expression};
use super::{ident, type_tokens};
use crate::ir::{Api, BodyKind, Operation, OutcomeBody, RequestBody, Server, TypeRef};
use crate::naming::shouty;

/// The whole of `client.rs`.
pub(super) fn emit_client(api: &Api) -> TokenStream {
    let servers = api
        .servers
        .iter()
        .map(|(const_name, server)| emit_server(api, const_name, server));
    let statics = api.operations.iter().map(emit_operation_static);
    let default_error = api
        .default_error
        .as_ref()
        .map(type_tokens)
        .unwrap_or_else(|| quote! { ::serde_json::Value });
    let items = api.operations.iter().map(emit_operation_types);
    let methods = api.operations.iter().map(|op| emit_methods(api, op));
    quote! {
        //! The client, its servers and operations.
        #[allow(unused_imports)]
        use super::types::*;

        /// The servers operations are sent to; each can be pointed elsewhere with
        /// `oas_runtime::Config::base_url`.
        pub mod servers {
            #( #servers )*
        }

        /// The static facts of each operation (method, path template, server, retry safety).
        pub mod operations {
            #( #statics )*
        }

        /// The error of a call: an API error carries the decoded error body.
        pub type Error<E = #default_error> = ::oas_runtime::Error<E>;

        #( #items )*

        /// A typed client: one async method per operation.
        #[derive(Debug, Clone)]
        pub struct Client {
            runtime: ::oas_runtime::Client,
        }

        impl Client {
            /// Builds a client from a runtime configuration (auth, servers, timeouts, retries).
            pub fn new(config: ::oas_runtime::Config) -> Result<Self, ::oas_runtime::ConfigError> {
                Ok(Self { runtime: ::oas_runtime::Client::new(config)? })
            }

            /// Wraps an existing runtime client.
            pub fn from_runtime(runtime: ::oas_runtime::Client) -> Self {
                Self { runtime }
            }

            /// The runtime client underneath.
            pub fn runtime(&self) -> &::oas_runtime::Client {
                &self.runtime
            }

            #( #methods )*
        }
    }
}

/// A server's constant in `servers`: its URL template, variables and trusted hosts.
fn emit_server(api: &Api, const_name: &str, server: &Server) -> TokenStream {
    let trusted_hosts = &api.trusted_hosts;
    let name = ident(const_name);
    let key = &server.name;
    let url = &server.url_template;
    let var_names = server.variables.keys();
    let var_defaults = server.variables.values();
    let mut text = format!("`{}`", shown(url));
    if let Some(d) = &server.docs {
        text = format!("{}\n\n{text}", d.trim());
    }
    for (var, default) in &server.variables {
        let (var, default) = (shown(var), shown(default));
        text.push_str(&format!("\n\nVariable `{var}`, by default `{default}`."));
    }
    let doc = docs(Some(&text));
    quote! {
        #doc
        pub const #name: ::oas_runtime::Server = ::oas_runtime::Server {
            name: #key,
            url_template: #url,
            variables: &[ #( ::oas_runtime::ServerVariable { name: #var_names, default: #var_defaults }, )* ],
            trusted_hosts: &[ #( #trusted_hosts ),* ],
        };
    }
}

/// An operation's static in `operations`: what the runtime needs to send and retry it.
fn emit_operation_static(op: &Operation) -> TokenStream {
    let name = format_ident!("{}", shouty(&op.method_name));
    let id = &op.id;
    let method = format_ident!("{}", op.http_method);
    let path = &op.path;
    let server = ident(&op.server);
    let idempotent = op.idempotent;
    let auth = op.auth;
    let doc = format!(
        " `{} {}` (`{}`).",
        op.http_method,
        shown(&op.path),
        shown(&op.id)
    );
    quote! {
        #[doc = #doc]
        pub static #name: ::oas_runtime::Operation = ::oas_runtime::Operation {
            id: #id,
            method: ::oas_runtime::Method::#method,
            path_template: #path,
            server: &super::servers::#server,
            idempotent: #idempotent,
            auth: #auth,
        };
    }
}

/// The error type in an operation's signature.
fn error_tokens(api: &Api, op: &Operation) -> TokenStream {
    if api.default_error.as_ref().unwrap_or(&TypeRef::Json) == &op.error {
        quote! { Error }
    } else {
        let ty = type_tokens(&op.error);
        quote! { Error<#ty> }
    }
}

/// The success type in an operation's signature: its response enum, or the body of
/// its one outcome.
fn success_tokens(op: &Operation) -> TokenStream {
    if let Some(name) = &op.response_type {
        let name = ident(name);
        return quote! { #name };
    }
    match &op.outcomes[0].body {
        OutcomeBody::Empty => quote! { () },
        OutcomeBody::Json(ty) => type_tokens(ty),
        OutcomeBody::Bytes => quote! { ::oas_runtime::Bytes },
        OutcomeBody::Raw => quote! { ::oas_runtime::RawResponse },
    }
}

/// The method of an operation; for one that can be called at a URL the server gave,
/// also its `_at` twin, both calling a private `send_` method.
fn emit_methods(api: &Api, op: &Operation) -> TokenStream {
    let method = ident(&op.method_name);
    let op_static = format_ident!("{}", shouty(&op.method_name));
    let success = success_tokens(op);
    let error = error_tokens(api, op);
    let ret = quote! { Result<#success, #error> };
    let (input_param, input_arg) = input(op);
    let path_params = path_params(op);
    let path_expr = path_expression(op);
    let doc = method_docs(op);
    let send = emit_send(op);

    if op.at_url {
        let at = format_ident!("{}_at", op.method_name);
        let send_fn = format_ident!("send_{}", op.method_name);
        let at_doc = format!(
            " Like [`Client::{}`], at an absolute URL the server gave (for example from a session's endpoints).",
            op.method_name
        );
        quote! {
            #doc
            pub async fn #method(&self, #( #path_params, )* #input_param) -> #ret {
                let url = self.runtime.endpoint(&operations::#op_static, #path_expr)?;
                self.#send_fn(url, #input_arg).await
            }

            #[doc = #at_doc]
            pub async fn #at(&self, url: &str, #input_param) -> #ret {
                let url = self.runtime.endpoint_at(&operations::#op_static, url)?;
                self.#send_fn(url, #input_arg).await
            }

            async fn #send_fn(&self, url: ::oas_runtime::Url, #input_param) -> #ret {
                #send
            }
        }
    } else {
        quote! {
            #doc
            pub async fn #method(&self, #( #path_params, )* #input_param) -> #ret {
                let url = self.runtime.endpoint(&operations::#op_static, #path_expr)?;
                #send
            }
        }
    }
}

/// Inputs other than path parameters, as a parameter and the argument that passes it
/// on: a request struct, a JSON or form body, or nothing.
fn input(op: &Operation) -> (Option<TokenStream>, Option<TokenStream>) {
    match (&op.request_type, &op.body) {
        (Some(t), _) => {
            let t = ident(t);
            (Some(quote! { request: #t }), Some(quote! { request }))
        }
        (
            None,
            Some(RequestBody {
                kind: BodyKind::Json(ty) | BodyKind::Form { ty, .. },
                required,
                ..
            }),
        ) => {
            let ty = type_tokens(ty);
            let param = if *required {
                quote! { body: &#ty }
            } else {
                quote! { body: Option<&#ty> }
            };
            (Some(param), Some(quote! { body }))
        }
        _ => (None, None),
    }
}

/// The path parameters of a method: strings and named types borrowed, others by value.
fn path_params(op: &Operation) -> Vec<TokenStream> {
    op.path_params
        .iter()
        .map(|p| {
            let name = ident(&p.rust_name);
            match &p.ty {
                TypeRef::String => quote! { #name: &str },
                TypeRef::Named(n) => {
                    let n = ident(n);
                    quote! { #name: &#n }
                }
                other => {
                    let ty = type_tokens(other);
                    quote! { #name: #ty }
                }
            }
        })
        .collect()
}

/// A method's docs: the operation's prose, then its method and path.
fn method_docs(op: &Operation) -> TokenStream {
    let mut doc_text = op.docs.clone().unwrap_or_default();
    if !doc_text.is_empty() {
        doc_text.push_str("\n\n");
    }
    doc_text.push_str(&format!("`{} {}`", op.http_method, op.path));
    let (what, names): (&str, Vec<&str>) = match op.body.as_ref().map(|b| &b.kind) {
        Some(BodyKind::Form { fields, .. }) => (
            "a form (`application/x-www-form-urlencoded`), its fields",
            fields.iter().map(String::as_str).collect(),
        ),
        Some(BodyKind::Multipart { parts }) => (
            "`multipart/form-data`, its parts",
            parts.iter().map(|p| p.wire_name.as_str()).collect(),
        ),
        _ => ("", Vec::new()),
    };
    if !names.is_empty() {
        let names: Vec<String> = names.iter().map(|n| format!("`{}`", shown(n))).collect();
        doc_text.push_str(&format!(
            "\n\nThe body is sent as {what} in this order: {}.",
            names.join(", ")
        ));
    }
    docs(Some(&doc_text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::build::*;

    /// An API with one server (`API`, which has a variable) and `operations`.
    fn api_with(operations: Vec<Operation>, default_error: Option<TypeRef>) -> Api {
        let mut api = api(Vec::new());
        let server = Server {
            name: "api".into(),
            url_template: "https://{host}/2.0".into(),
            variables: [("host".to_owned(), "api.example.com".to_owned())].into(),
            docs: None,
        };
        api.servers.insert("API".into(), server);
        api.operations = operations;
        api.default_error = default_error;
        api
    }

    /// The items of module `name` in `file`.
    fn module<'f>(file: &'f syn::File, name: &str) -> &'f [syn::Item] {
        file.items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == name => Some(&m.content.as_ref().unwrap().1[..]),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no module {name}"))
    }

    #[test]
    fn an_operation_at_a_server_with_variables_can_also_be_called_at_a_url() {
        let mut upload = operation("upload_part", "PUT", "/sessions/{id}");
        upload.path_params = vec![param("id", "id", TypeRef::String, true)];
        upload.at_url = true;
        let api = api_with(vec![upload, operation("get_file", "GET", "/file")], None);
        let file: syn::File = syn::parse2(emit_client(&api)).unwrap();

        let [syn::Item::Const(server)] = module(&file, "servers") else {
            panic!("not one server constant");
        };
        assert_eq!(server.ident, "API");
        let statics: Vec<String> = module(&file, "operations")
            .iter()
            .map(|item| match item {
                syn::Item::Static(s) => s.ident.to_string(),
                _ => panic!("not a static"),
            })
            .collect();
        assert_eq!(statics, ["UPLOAD_PART", "GET_FILE"]);

        let client = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Impl(i) => Some(i),
                _ => None,
            })
            .expect("impl Client");
        let methods: Vec<(String, bool)> = client
            .items
            .iter()
            .map(|item| match item {
                syn::ImplItem::Fn(f) => (
                    f.sig.ident.to_string(),
                    matches!(f.vis, syn::Visibility::Public(_)),
                ),
                _ => panic!("not a method"),
            })
            .collect();
        let expected = [
            ("new", true),
            ("from_runtime", true),
            ("runtime", true),
            ("upload_part", true),
            ("upload_part_at", true),
            ("send_upload_part", false),
            ("get_file", true),
        ]
        .map(|(name, public)| (name.to_owned(), public));
        assert_eq!(methods, expected);
    }

    #[test]
    fn the_error_type_names_its_body_only_when_it_is_not_the_default() {
        let mut op = operation("get_file", "GET", "/file");
        op.error = named("ClientError");
        let api = api_with(Vec::new(), Some(named("ClientError")));
        assert_tokens(error_tokens(&api, &op), quote! { Error });
        op.error = TypeRef::Json;
        assert_tokens(
            error_tokens(&api, &op),
            quote! { Error<::serde_json::Value> },
        );
        let api = api_with(Vec::new(), None);
        assert_tokens(error_tokens(&api, &op), quote! { Error });
    }

    #[test]
    fn path_parameters_are_borrowed_when_strings_or_named_types() {
        let mut op = operation("get_item", "GET", "/{a}/{b}/{c}");
        op.path_params = vec![
            param("a", "a", TypeRef::String, true),
            param("b", "b", named("ItemKind"), true),
            param("c", "c", TypeRef::I64, true),
        ];
        let params = path_params(&op);
        assert_tokens(
            quote! { #( #params, )* },
            quote! { a: &str, b: &ItemKind, c: i64, },
        );
    }
}

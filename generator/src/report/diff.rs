//! The comparison of two summaries, and the rules that judge each change.
//!
//! A change is **breaking** when code that compiled against the previous API can
//! fail to compile against the new one (Rust's semver rules, as cargo-semver-checks
//! applies them); the generated code's shape decides which changes those are:
//!
//! - removing anything users name (method, type, field, variant, constant) breaks;
//! - a new field breaks a struct users build with a literal, not a
//!   `#[non_exhaustive]` one they only read; new values of open enums and new
//!   alternatives of unions (both `#[non_exhaustive]`) do not break;
//! - a new parameter breaks: a path parameter is a new argument, a query or header
//!   parameter a new field of the request struct users build;
//! - a changed type, optionality, return type or error type breaks;
//! - a changed path, HTTP method, server or wire name does not break the Rust API
//!   (the same code compiles and sends the new request).

use std::collections::BTreeMap;

use super::summary::*;
use super::{Change, How, Subject, What};

/// Every change from `old` to `new`, sorted by subject.
pub(super) fn changes(old: &Summary, new: &Summary) -> Vec<Change> {
    let mut diff = Diff::default();
    diff.config(old, new);
    for (name, old_server, new_server) in keyed(&old.servers, &new.servers) {
        diff.server(name, old_server, new_server);
    }
    for (name, old_op, new_op) in keyed(&old.operations, &new.operations) {
        diff.operation(name, old_op, new_op);
    }
    let toggled = old.keep_unknown_fields != new.keep_unknown_fields;
    for (name, old_type, new_type) in keyed(&old.types, &new.types) {
        diff.named_type(name, old_type, new_type, toggled);
    }
    // A stable sort: each subject's changes stay in the order they were found.
    diff.changes.sort_by(|a, b| a.subject.cmp(&b.subject));
    diff.changes
}

/// The keys of both maps, sorted, with the value on each side; keys whose values
/// are equal are left out (nothing changed there).
fn keyed<'a, V: PartialEq>(
    old: &'a BTreeMap<String, V>,
    new: &'a BTreeMap<String, V>,
) -> Vec<(&'a str, Option<&'a V>, Option<&'a V>)> {
    let mut out: Vec<_> = old
        .iter()
        .filter_map(|(key, before)| match new.get(key) {
            Some(after) if after == before => None,
            after => Some((key.as_str(), Some(before), after)),
        })
        .collect();
    let added = new.iter().filter(|(key, _)| !old.contains_key(*key));
    out.extend(added.map(|(key, after)| (key.as_str(), None, Some(after))));
    out.sort_by_key(|(key, ..)| *key);
    out
}

/// `optional T` or `T`, for a line about a new item.
fn described(ty: &str, optional: bool) -> String {
    if optional {
        format!("optional `{ty}`")
    } else {
        format!("required `{ty}`")
    }
}

#[derive(Default)]
struct Diff {
    changes: Vec<Change>,
}

/// The subject and pointer a change is recorded under.
struct At<'a> {
    subject: &'a Subject,
    pointer: Option<&'a str>,
}

impl Diff {
    fn push(&mut self, at: &At, what: What, how: How, breaking: bool, text: String) {
        self.changes.push(Change {
            subject: at.subject.clone(),
            what,
            how,
            breaking,
            text,
            pointer: at.pointer.map(str::to_owned),
        });
    }

    fn config(&mut self, old: &Summary, new: &Summary) {
        let at = At {
            subject: &Subject::Api,
            pointer: None,
        };
        if old.keep_unknown_fields != new.keep_unknown_fields {
            let touched = |summary: &Summary| -> (usize, usize) {
                let mut read_only = 0;
                let mut built = 0;
                for ty in summary.types.values() {
                    if let Shape::Struct {
                        unknown_fields: Some(_),
                        non_exhaustive,
                        ..
                    } = &ty.shape
                    {
                        if *non_exhaustive {
                            read_only += 1;
                        } else {
                            built += 1;
                        }
                    }
                }
                (read_only, built)
            };
            let text = if new.keep_unknown_fields {
                let (read_only, built) = touched(new);
                let sent = match built {
                    0 => "all `#[non_exhaustive]`".to_owned(),
                    n => format!("{n} of them also sent in requests, whose literals must name it"),
                };
                format!(
                    "`keep_unknown_fields` turned on: {} structs read from responses gain a \
                     map field of unknown members ({sent})",
                    read_only + built
                )
            } else {
                let (read_only, built) = touched(old);
                format!(
                    "`keep_unknown_fields` turned off: {} structs lose their map field of unknown members",
                    read_only + built
                )
            };
            let breaking = !new.keep_unknown_fields || touched(new).1 > 0;
            self.push(&at, What::Setting, How::Changed, breaking, text);
        }
        if old.default_error != new.default_error {
            let shown = |e: &Option<String>| e.clone().unwrap_or_else(|| "Value".to_owned());
            let text = format!(
                "the default error body of `Error` is `{}` (was `{}`)",
                shown(&new.default_error),
                shown(&old.default_error)
            );
            self.push(&at, What::Setting, How::Changed, true, text);
        }
    }

    fn server(&mut self, name: &str, old: Option<&ServerSummary>, new: Option<&ServerSummary>) {
        let subject = Subject::Server(name.to_owned());
        let at = At {
            subject: &subject,
            pointer: None,
        };
        match (old, new) {
            (None, Some(new)) => {
                let text = format!("added (`{}`)", new.url);
                self.push(&at, What::Server, How::Added, false, text);
            }
            (Some(_), None) => {
                let text = format!("removed: `servers::{name}` is gone");
                self.push(&at, What::Server, How::Removed, true, text);
            }
            (Some(old), Some(new)) if old != new => {
                let text = format!(
                    "URL `{}` {:?} (was `{}` {:?})",
                    new.url, new.variables, old.url, old.variables
                );
                self.push(&at, What::Server, How::Changed, false, text);
            }
            _ => {}
        }
    }

    fn operation(
        &mut self,
        name: &str,
        old: Option<&OperationSummary>,
        new: Option<&OperationSummary>,
    ) {
        let Some(either) = new.or(old) else {
            return;
        };
        let subject = Subject::Operation {
            name: name.to_owned(),
            http: either.http.clone(),
        };
        let at = At {
            subject: &subject,
            pointer: Some(&either.pointer),
        };
        let (old, new) = match (old, new) {
            (Some(old), Some(new)) => (old, new),
            (None, _) => {
                let text = format!("added: `{name}`");
                return self.push(&at, What::Operation, How::Added, false, text);
            }
            (_, None) => {
                let text = format!("removed: `{name}` is gone");
                return self.push(&at, What::Operation, How::Removed, true, text);
            }
        };
        if old.http != new.http {
            let text = format!("sends `{}` (was `{}`); same signature", new.http, old.http);
            self.push(&at, What::Operation, How::Changed, false, text);
        }
        if old.server != new.server {
            let text = format!("sent to `servers::{}` (was `{}`)", new.server, old.server);
            self.push(&at, What::Operation, How::Changed, false, text);
        }
        if old.at_url != new.at_url {
            let (how, text) = if new.at_url {
                (How::Added, format!("`{name}_at(url, …)` added"))
            } else {
                let text = format!("`{name}_at(url, …)` removed: its server has no variables now");
                (How::Removed, text)
            };
            self.push(&at, What::Operation, how, !new.at_url, text);
        }
        self.path_params(&at, old, new);
        self.inputs(&at, old, new);
        self.outcomes(&at, old, new);
        if old.error != new.error {
            let text = format!("error body `{}` (was `{}`)", new.error, old.error);
            self.push(&at, What::Outcome, How::Changed, true, text);
        }
    }

    /// Path parameters are the method's arguments: any change breaks.
    fn path_params(&mut self, at: &At, old: &OperationSummary, new: &OperationSummary) {
        let by_name = |params: &[PathParamSummary]| -> BTreeMap<String, PathParamSummary> {
            params.iter().map(|p| (p.name.clone(), p.clone())).collect()
        };
        let (old_params, new_params) = (by_name(&old.path), by_name(&new.path));
        for (name, before, after) in keyed(&old_params, &new_params) {
            let pointer = after.or(before).map(|p| p.pointer.as_str());
            let at = At { pointer, ..*at };
            match (before, after) {
                (None, Some(p)) => {
                    let text =
                        format!("path parameter `{name}` added (`{}`): a new argument", p.ty);
                    self.push(&at, What::Parameter, How::Added, true, text);
                }
                (Some(_), None) => {
                    let text = format!("path parameter `{name}` removed: one argument fewer");
                    self.push(&at, What::Parameter, How::Removed, true, text);
                }
                (Some(b), Some(a)) if b.ty != a.ty => {
                    let text = format!("path parameter `{name}`: type `{}` (was `{}`)", a.ty, b.ty);
                    self.push(&at, What::Parameter, How::Changed, true, text);
                }
                _ => {}
            }
        }
        let order = |params: &[PathParamSummary]| -> Vec<String> {
            params.iter().map(|p| p.name.clone()).collect()
        };
        let (old_order, new_order) = (order(&old.path), order(&new.path));
        if old_params.keys().eq(new_params.keys()) && old_order != new_order {
            let text = format!(
                "path parameters in the order {} (was {})",
                new_order.join(", "),
                old_order.join(", ")
            );
            self.push(at, What::Parameter, How::Changed, true, text);
        }
    }

    /// What the method takes besides its path parameters: a request struct (query
    /// and header parameters, and a body that is not JSON, as fields users set), else
    /// the body itself (the body's own line tells that change).
    fn inputs(&mut self, at: &At, old: &OperationSummary, new: &OperationSummary) {
        let input = |op: &OperationSummary| match &op.body {
            Some(body) if body.required => format!("`&{}`", body.ty),
            Some(body) => format!("`Option<&{}>`", body.ty),
            None => "no input".to_owned(),
        };
        let text = match (&old.request_type, &new.request_type) {
            (None, Some(request)) => Some(format!(
                "takes the request struct `{request}` (was {})",
                input(old)
            )),
            (Some(request), None) => Some(format!(
                "takes {} (was the request struct `{request}`)",
                input(new)
            )),
            (Some(before), Some(after)) if before != after => {
                Some(format!("request struct `{after}` (was `{before}`)"))
            }
            _ => None,
        };
        if let Some(text) = text {
            self.push(at, What::Operation, How::Changed, true, text);
        }
        let request = new.request_type.as_deref().unwrap_or("the request struct");
        for (place, old_params, new_params) in [
            ("query", &old.query, &new.query),
            ("header", &old.header, &new.header),
        ] {
            for (name, before, after) in keyed(old_params, new_params) {
                let pointer = after.or(before).map(|p| p.pointer.as_str());
                let at = At { pointer, ..*at };
                self.param(&at, place, name, before, after, request);
            }
        }
        self.body(at, old, new);
    }

    /// A query or header parameter: a field of a request struct users build.
    fn param(
        &mut self,
        at: &At,
        place: &str,
        name: &str,
        before: Option<&ParamSummary>,
        after: Option<&ParamSummary>,
        request: &str,
    ) {
        let (how, text) = match (before, after) {
            (None, Some(p)) => (
                How::Added,
                format!(
                    "{place} parameter `{name}` added ({}): a new field of `{request}`",
                    described(&p.ty, !p.required)
                ),
            ),
            (Some(_), None) => (How::Removed, format!("{place} parameter `{name}` removed")),
            (Some(b), Some(a)) if b.ty != a.ty || b.required != a.required => {
                let shown = |p: &ParamSummary| described(&p.ty, !p.required);
                let text = format!(
                    "{place} parameter `{name}`: {} (was {})",
                    shown(a),
                    shown(b)
                );
                (How::Changed, text)
            }
            (Some(b), Some(a)) if b.wire != a.wire => {
                let text = format!(
                    "{place} parameter `{name}`: sent as `{}` (was `{}`)",
                    a.wire, b.wire
                );
                return self.push(at, What::Parameter, How::Changed, false, text);
            }
            (Some(b), Some(a)) if b.style != a.style => {
                // How the value is written is the wire's business: the same Rust compiles.
                let style = |p: &ParamSummary| p.style.clone().unwrap_or_else(|| "form".into());
                let text = format!(
                    "{place} parameter `{name}`: written in style `{}` (was `{}`)",
                    style(a),
                    style(b)
                );
                return self.push(at, What::Parameter, How::Changed, false, text);
            }
            _ => return,
        };
        self.push(at, What::Parameter, how, true, text);
    }

    fn body(&mut self, at: &At, old: &OperationSummary, new: &OperationSummary) {
        let pointer = format!("{}/requestBody", new.pointer);
        let at = At {
            pointer: Some(&pointer),
            ..*at
        };
        match (&old.body, &new.body) {
            (None, Some(body)) => {
                let text = format!(
                    "request body added ({})",
                    described(&body.ty, !body.required)
                );
                self.push(&at, What::Body, How::Added, true, text);
            }
            (Some(_), None) => {
                let text = "request body removed".to_owned();
                self.push(&at, What::Body, How::Removed, true, text);
            }
            (Some(b), Some(a)) => {
                if b.ty != a.ty || b.required != a.required {
                    let text = format!(
                        "request body: {} (was {})",
                        described(&a.ty, !a.required),
                        described(&b.ty, !b.required)
                    );
                    self.push(&at, What::Body, How::Changed, true, text);
                }
                if b.media_type != a.media_type {
                    let text = format!(
                        "request body sent as `{}` (was `{}`)",
                        a.media_type, b.media_type
                    );
                    self.push(&at, What::Body, How::Changed, false, text);
                }
            }
            (None, None) => {}
        }
    }

    /// What the method returns: one body type, or an enum with a variant per outcome.
    fn outcomes(&mut self, at: &At, old: &OperationSummary, new: &OperationSummary) {
        let returns = |op: &OperationSummary| -> String {
            match (&op.response_type, op.outcomes.values().next()) {
                (Some(enum_name), _) => enum_name.clone(),
                (None, Some(outcome)) => outcome.body.clone(),
                (None, None) => "()".to_owned(),
            }
        };
        let (old_returns, new_returns) = (returns(old), returns(new));
        if old_returns != new_returns {
            let text = format!("returns `{new_returns}` (was `{old_returns}`)");
            self.push(at, What::Outcome, How::Changed, true, text);
        }
        // Without an enum on both sides, the return type says it all; only the status is left.
        let (Some(_), Some(response)) = (&old.response_type, &new.response_type) else {
            let statuses = |op: &OperationSummary| op.outcomes.keys().cloned().collect::<Vec<_>>();
            if old_returns == new_returns && statuses(old) != statuses(new) {
                let text = format!(
                    "succeeds with {} (was {})",
                    statuses(new).join(", "),
                    statuses(old).join(", ")
                );
                self.push(at, What::Outcome, How::Changed, false, text);
            }
            return;
        };
        for (status, before, after) in keyed(&old.outcomes, &new.outcomes) {
            let pointer = format!("{}/responses/{status}", new.pointer);
            let at = At {
                pointer: Some(&pointer),
                ..*at
            };
            match (before, after) {
                (None, Some(o)) => {
                    let text = format!(
                        "outcome `{status}` added: a new variant `{response}::{}`",
                        o.variant
                    );
                    self.push(&at, What::Outcome, How::Added, true, text);
                }
                (Some(o), None) => {
                    let text = format!("outcome `{status}` removed (variant `{}`)", o.variant);
                    self.push(&at, What::Outcome, How::Removed, true, text);
                }
                (Some(b), Some(a)) => self.outcome(&at, status, b, a),
                (None, None) => {}
            }
        }
    }

    /// An outcome in both: its variant's name, payload and header fields.
    fn outcome(&mut self, at: &At, status: &str, old: &OutcomeSummary, new: &OutcomeSummary) {
        if old.variant != new.variant {
            let text = format!(
                "outcome `{status}`: variant `{}` (was `{}`)",
                new.variant, old.variant
            );
            self.push(at, What::Outcome, How::Changed, true, text);
        }
        if old.body != new.body {
            let text = format!(
                "outcome `{status}`: body `{}` (was `{}`)",
                new.body, old.body
            );
            self.push(at, What::Outcome, How::Changed, true, text);
        }
        for (name, before, after) in keyed(&old.headers, &new.headers) {
            let text = match (before, after) {
                (None, Some(h)) => format!("outcome `{status}`: header `{}` added", h.wire),
                (Some(h), None) => format!("outcome `{status}`: header `{}` removed", h.wire),
                (Some(b), Some(a)) if b.ty != a.ty => format!(
                    "outcome `{status}`: header field `{name}` is `Option<{}>` (was `Option<{}>`)",
                    a.ty, b.ty
                ),
                (Some(b), Some(a)) if b.form != a.form => {
                    // Read differently into the same Rust type: nothing to recompile.
                    let form = |h: &HeaderSummary| h.form.clone().unwrap_or_else(|| "text".into());
                    let text = format!(
                        "outcome `{status}`: header `{}` read as {} (was {})",
                        a.wire,
                        form(a),
                        form(b)
                    );
                    self.push(at, What::Outcome, How::Changed, false, text);
                    continue;
                }
                _ => continue,
            };
            // The headers are fields of a struct variant users match on.
            self.push(at, What::Outcome, How::Changed, true, text);
        }
    }

    fn named_type(
        &mut self,
        name: &str,
        old: Option<&TypeSummary>,
        new: Option<&TypeSummary>,
        toggled: bool,
    ) {
        let Some(either) = new.or(old) else {
            return;
        };
        let subject = Subject::Type(name.to_owned());
        let at = At {
            subject: &subject,
            pointer: Some(&either.pointer),
        };
        let (old, new) = match (old, new) {
            (Some(old), Some(new)) => (old, new),
            (None, Some(new)) => {
                let text = format!("added ({})", shape_summary(&new.shape));
                return self.push(&at, What::Type, How::Added, false, text);
            }
            (_, _) => {
                let text = format!("removed: `{name}` is gone");
                return self.push(&at, What::Type, How::Removed, true, text);
            }
        };
        match (&old.shape, &new.shape) {
            (Shape::Struct { .. }, Shape::Struct { .. }) => self.structure(&at, old, new, toggled),
            (Shape::Enum { values: before }, Shape::Enum { values: after }) => {
                self.values(&at, before, after)
            }
            (
                Shape::Union {
                    discriminator: old_tag,
                    text: old_text,
                    variants: before,
                },
                Shape::Union {
                    discriminator: new_tag,
                    text: new_text,
                    variants: after,
                },
            ) => {
                if old_text != new_text {
                    // A union with a text form implements `Display` (and can be a
                    // parameter); losing it breaks code that formats the value.
                    let text = if *new_text {
                        "has a text form now (`Display`)"
                    } else {
                        "has no text form any more (no `Display`)"
                    };
                    self.push(&at, What::Type, How::Changed, *old_text, text.to_owned());
                }
                if old_tag != new_tag {
                    let text = format!(
                        "told apart by {} (was {})",
                        tag_property(new_tag),
                        tag_property(old_tag)
                    );
                    self.push(&at, What::Type, How::Changed, false, text);
                }
                self.variants(&at, before, after);
            }
            (Shape::Alias { target: before }, Shape::Alias { target: after }) => {
                if before != after {
                    let text = format!("alias of `{after}` (was `{before}`)");
                    self.push(&at, What::Type, How::Changed, true, text);
                }
            }
            (before, after) => {
                let text = format!(
                    "is {} (was {})",
                    shape_summary(after),
                    shape_summary(before)
                );
                self.push(&at, What::Type, How::Changed, true, text);
            }
        }
    }
}

/// `struct, 3 fields`, `enum, 2 values`…: a type in a few words.
fn shape_summary(shape: &Shape) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match shape {
        Shape::Struct { fields, .. } => {
            format!("a struct, {}", count(fields.len(), "field", "fields"))
        }
        Shape::Enum { values } => format!("an enum, {}", count(values.len(), "value", "values")),
        Shape::Union { variants, .. } => {
            format!("a union, {}", count(variants.len(), "variant", "variants"))
        }
        Shape::Alias { target } => format!("an alias of `{target}`"),
    }
}

fn tag_property(tag: &Option<String>) -> String {
    match tag {
        Some(property) => format!("`{property}`"),
        None => "trying each alternative".to_owned(),
    }
}

mod types;

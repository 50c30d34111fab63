//! The comparison of two versions of a named type: struct fields, enum values,
//! union alternatives.

use std::collections::BTreeMap;

use super::{At, Diff, described, keyed};
use crate::report::summary::{FieldSummary, Shape, TypeSummary, Usage, VariantSummary};
use crate::report::{How, What};

impl Diff {
    /// Two versions of a struct. A new field breaks users who build it with a literal,
    /// not those who only read it (`#[non_exhaustive]`); `toggled` says the config's
    /// `keep_unknown_fields` changed, which the config's line reports once for all.
    pub(super) fn structure(
        &mut self,
        at: &At,
        old_type: &TypeSummary,
        new_type: &TypeSummary,
        toggled: bool,
    ) {
        let (
            Shape::Struct {
                additional: old_additional,
                default: old_default,
                fields: old_fields,
                non_exhaustive: old_closed,
                unknown_fields: old_unknown,
            },
            Shape::Struct {
                additional: new_additional,
                default: new_default,
                fields: new_fields,
                non_exhaustive: closed,
                unknown_fields: new_unknown,
            },
        ) = (&old_type.shape, &new_type.shape)
        else {
            return;
        };
        let closed = *closed;
        if *old_closed != closed {
            let uses = format!(
                "{} (was {})",
                usage_words(new_type.usage),
                usage_words(old_type.usage)
            );
            let text = if closed {
                format!(
                    "`#[non_exhaustive]` now, {uses}: struct literals outside the crate no longer compile"
                )
            } else {
                format!("no longer `#[non_exhaustive]`, {uses}")
            };
            self.push(at, What::Type, How::Changed, closed, text);
        }
        if old_default != new_default {
            let (breaking, text) = if *new_default {
                (false, "derives `Default`")
            } else {
                (true, "no longer derives `Default`")
            };
            self.push(at, What::Type, How::Changed, breaking, text.to_owned());
        }
        let literals_note = if *new_default {
            "; literals ending in `..Default::default()` still compile"
        } else {
            ""
        };
        for (name, before, after) in keyed(old_fields, new_fields) {
            let pointer = after.or(before).map(|f| f.pointer.as_str());
            let at = At { pointer, ..*at };
            match (before, after) {
                (None, Some(f)) => {
                    let mut text =
                        format!("field `{name}` added, {}", described(&f.ty, f.optional));
                    if !closed && f.optional {
                        text.push_str(literals_note);
                    }
                    self.push(&at, What::Field, How::Added, !closed, text);
                }
                (Some(_), None) => {
                    let text = format!("field `{name}` removed");
                    self.push(&at, What::Field, How::Removed, true, text);
                }
                (Some(b), Some(a)) => self.field(&at, name, b, a),
                (None, None) => {}
            }
        }
        let map_change =
            |before: Option<String>, after: Option<String>, what: &str| match (before, after) {
                (None, Some(after)) => Some((How::Added, !closed, format!("{what} {after} added"))),
                (Some(before), None) => {
                    Some((How::Removed, true, format!("{what} {before} removed")))
                }
                (Some(before), Some(after)) if before != after => {
                    Some((How::Changed, true, format!("{what} {after} (was {before})")))
                }
                _ => None,
            };
        let additional = |ty: &Option<String>| {
            ty.as_ref()
                .map(|ty| format!("`additional_properties: BTreeMap<String, {ty}>`"))
        };
        let unknown = |name: &Option<String>| name.as_ref().map(|name| format!("`{name}`"));
        let mut maps = vec![map_change(
            additional(old_additional),
            additional(new_additional),
            "map of unlisted members",
        )];
        if !toggled {
            maps.push(map_change(
                unknown(old_unknown),
                unknown(new_unknown),
                "map of unknown members",
            ));
        }
        for (how, breaking, text) in maps.into_iter().flatten() {
            self.push(at, What::Field, how, breaking, text);
        }
    }

    /// A field in both versions: its type, its optionality, its wire name.
    fn field(&mut self, at: &At, name: &str, old: &FieldSummary, new: &FieldSummary) {
        if old.ty != new.ty || old.optional != new.optional {
            let text = format!(
                "field `{name}`: {} (was {})",
                described(&new.ty, new.optional),
                described(&old.ty, old.optional)
            );
            self.push(at, What::Field, How::Changed, true, text);
        }
        if old.wire != new.wire {
            let text = format!(
                "field `{name}`: the property `{}` (was `{}`)",
                new.wire, old.wire
            );
            self.push(at, What::Field, How::Changed, false, text);
        }
    }

    /// The values of an open enum (`#[non_exhaustive]`, unknown values kept): a new
    /// one does not break, a removed variant does.
    pub(super) fn values(
        &mut self,
        at: &At,
        old: &BTreeMap<String, String>,
        new: &BTreeMap<String, String>,
    ) {
        for (variant, before, after) in keyed(old, new) {
            let (how, breaking, text) = match (before, after) {
                (None, Some(wire)) => (
                    How::Added,
                    false,
                    format!("value `{wire}` added (variant `{variant}`)"),
                ),
                (Some(wire), None) => (
                    How::Removed,
                    true,
                    format!("value `{wire}` removed (variant `{variant}`)"),
                ),
                (Some(b), Some(a)) if b != a => (
                    How::Changed,
                    false,
                    format!("variant `{variant}` is the value `{a}` (was `{b}`)"),
                ),
                _ => continue,
            };
            self.push(at, What::EnumValue, how, breaking, text);
        }
    }

    /// The alternatives of a union (`#[non_exhaustive]`, other values kept).
    pub(super) fn variants(
        &mut self,
        at: &At,
        old: &BTreeMap<String, VariantSummary>,
        new: &BTreeMap<String, VariantSummary>,
    ) {
        for (variant, before, after) in keyed(old, new) {
            let (how, breaking, text) = match (before, after) {
                (None, Some(v)) => (
                    How::Added,
                    false,
                    format!("variant `{variant}` added (`{}`)", v.ty),
                ),
                (Some(_), None) => (How::Removed, true, format!("variant `{variant}` removed")),
                (Some(b), Some(a)) if b.ty != a.ty => (
                    How::Changed,
                    true,
                    format!("variant `{variant}` holds `{}` (was `{}`)", a.ty, b.ty),
                ),
                (Some(b), Some(a)) if b.tag != a.tag => (
                    How::Changed,
                    false,
                    format!(
                        "variant `{variant}` is chosen by the tag {:?} (was {:?})",
                        a.tag.as_deref().unwrap_or("-"),
                        b.tag.as_deref().unwrap_or("-")
                    ),
                ),
                _ => continue,
            };
            self.push(at, What::UnionVariant, how, breaking, text);
        }
    }
}

/// How operations use a type, in a few words.
fn usage_words(usage: Usage) -> &'static str {
    match usage {
        Usage::Request => "only sent in requests",
        Usage::Response => "only read from responses",
        Usage::Both => "sent and read",
        Usage::None => "used by no operation",
    }
}

//! The report as terminal text and as Markdown: a count of each kind of change, then
//! the breaking changes, then the compatible ones, grouped by operation and type,
//! one line per change with its mark and the spec's JSON pointer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Change, How, Report, Subject, What};

const BREAKING: &str = "breaking";
const COMPATIBLE: &str = "compatible";

impl Report {
    /// The report for a terminal in at most about `limit` lines of changes: the
    /// breaking ones first (as many as fit), then the compatible ones if all of them
    /// fit in what is left, else only their count by kind.
    pub fn text(&self, limit: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", escaped(&self.headline()));
        if self.is_empty() {
            return out;
        }
        let _ = writeln!(out, "  {}", self.counts());
        let mut budget = limit;
        for (mark, changes) in self.sections() {
            let lines = grouped(&changes, mark);
            if mark == COMPATIBLE && lines.len() > budget {
                let _ = writeln!(
                    out,
                    "\n{} compatible changes in {}, not listed here: {}",
                    changes.len(),
                    subjects(&changes),
                    count_line(&changes)
                );
                break;
            }
            let _ = writeln!(out, "\n{} changes:", capitalized(mark));
            // A group's heading is not printed as the last line.
            let mut shown = lines.len().min(budget);
            while shown > 0 && lines[shown - 1].1.is_none() {
                shown -= 1;
            }
            for (line, _) in &lines[..shown] {
                let _ = writeln!(out, "{line}");
            }
            let hidden = lines[shown..]
                .iter()
                .filter(|(_, change)| change.is_some())
                .count();
            if hidden > 0 {
                let _ = writeln!(out, "    … and {hidden} more {mark} changes");
            }
            budget = budget.saturating_sub(shown);
        }
        out
    }

    /// The whole report as Markdown, every change listed.
    pub fn markdown(&self) -> String {
        let mut out = format!("# API changes: {}\n\n", escaped(&self.to));
        if self.is_empty() {
            let _ = writeln!(out, "None: the public Rust API is the same as before.");
            return out;
        }
        if self.from != self.to {
            let _ = writeln!(out, "From {}.\n", escaped(&self.from));
        }
        let breaking = self.breaking();
        let _ = writeln!(
            out,
            "**{breaking} breaking**, {} compatible: {}.",
            self.changes.len() - breaking,
            self.counts()
        );
        for (mark, changes) in self.sections() {
            let _ = writeln!(out, "\n## {}", capitalized(mark));
            let mut subject = None;
            for change in changes {
                if subject != Some(&change.subject) {
                    subject = Some(&change.subject);
                    let title = escaped(&subject_title(&change.subject, true));
                    let _ = writeln!(out, "\n### {title}\n");
                }
                let pointer = change
                    .pointer
                    .as_deref()
                    .map(|p| format!(" — `{p}`"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{}",
                    escaped(&format!("- **{mark}** {}{pointer}", change.text))
                );
            }
        }
        out
    }

    /// The breaking changes, then the compatible ones, each with its mark; a mark
    /// without changes is left out.
    fn sections(&self) -> Vec<(&'static str, Vec<&Change>)> {
        [(BREAKING, true), (COMPATIBLE, false)]
            .into_iter()
            .map(|(mark, breaking)| {
                let changes = self.changes.iter().filter(|c| c.breaking == breaking);
                (mark, changes.collect::<Vec<_>>())
            })
            .filter(|(_, changes)| !changes.is_empty())
            .collect()
    }

    /// `API report (…): 2 breaking, 3 compatible changes`, or that nothing changed.
    fn headline(&self) -> String {
        let api = if self.from == self.to {
            self.to.clone()
        } else {
            format!("{}, was {}", self.to, self.from)
        };
        if self.is_empty() {
            return format!("API unchanged ({api})");
        }
        let breaking = self.breaking();
        format!(
            "API changes ({api}): {breaking} breaking, {} compatible",
            self.changes.len() - breaking
        )
    }

    /// How many changes of each kind.
    fn counts(&self) -> String {
        count_line(&self.changes.iter().collect::<Vec<_>>())
    }
}

/// The lines of `changes` under a heading per subject, each with the change it
/// shows (`None` for a heading).
fn grouped<'a>(changes: &[&'a Change], mark: &str) -> Vec<(String, Option<&'a Change>)> {
    let mut lines = Vec::new();
    let mut subject = None;
    for change in changes {
        if subject != Some(&change.subject) {
            subject = Some(&change.subject);
            let title = escaped(&subject_title(&change.subject, false));
            lines.push((format!("  {title}"), None));
        }
        let pointer = change
            .pointer
            .as_deref()
            .map(|p| format!("  @ {p}"))
            .unwrap_or_default();
        let line = escaped(&format!("    {mark:<10}  {}{pointer}", change.text));
        lines.push((line, Some(*change)));
    }
    lines
}

/// `fields: 3 added, 1 removed; enum values: 2 added`.
fn count_line(changes: &[&Change]) -> String {
    let mut counts: BTreeMap<What, [usize; 3]> = BTreeMap::new();
    for change in changes {
        let slot = match change.how {
            How::Added => 0,
            How::Removed => 1,
            How::Changed => 2,
        };
        counts.entry(change.what).or_default()[slot] += 1;
    }
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(what, [added, removed, changed])| {
            let hows: Vec<String> = [(added, "added"), (removed, "removed"), (changed, "changed")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, how)| format!("{n} {how}"))
                .collect();
            format!("{}: {}", what.plural(), hows.join(", "))
        })
        .collect();
    parts.join("; ")
}

/// `4 operations, 12 types`: how many items the changes touch.
fn subjects(changes: &[&Change]) -> String {
    let mut seen: Vec<&Subject> = changes.iter().map(|c| &c.subject).collect();
    seen.dedup();
    let (mut operations, mut types, mut other) = (0, 0, 0);
    for subject in seen {
        match subject {
            Subject::Operation { .. } => operations += 1,
            Subject::Type(_) => types += 1,
            Subject::Api | Subject::Server(_) => other += 1,
        }
    }
    let mut parts = Vec::new();
    for (n, one, many) in [
        (operations, "operation", "operations"),
        (types, "type", "types"),
        (other, "server or setting", "servers or settings"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    }
    parts.join(", ")
}

/// The heading of a subject's group of changes.
fn subject_title(subject: &Subject, markdown: bool) -> String {
    let code = |s: &str| {
        if markdown {
            format!("`{s}`")
        } else {
            s.to_owned()
        }
    };
    match subject {
        Subject::Api => "the API as a whole".to_owned(),
        Subject::Server(name) => format!("server {}", code(&format!("servers::{name}"))),
        Subject::Operation { name, http } => format!("operation {} ({})", code(name), code(http)),
        Subject::Type(name) => format!("type {}", code(name)),
    }
}

/// A line with its control characters escaped (`\r`, `\u{1b}`): names and values
/// come from the spec, and must not move the cursor or colour the terminal.
fn escaped(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_the_spec_are_escaped_in_both_renderings() {
        let report = Report {
            from: "Api\r1".into(),
            to: "Api\u{1b}[2J 2".into(),
            changes: vec![Change {
                subject: Subject::Operation {
                    name: "get".into(),
                    http: "GET /a\nb".into(),
                },
                what: What::EnumValue,
                how: How::Added,
                breaking: false,
                text: "value `on\rhold` added".into(),
                pointer: Some("/paths/~1a\nb/get".into()),
            }],
        };
        for rendered in [report.text(10), report.markdown()] {
            assert!(
                !rendered.chars().any(|c| c.is_control() && c != '\n'),
                "{rendered:?}"
            );
            assert!(rendered.contains("on\\rhold"), "{rendered}");
            assert!(rendered.contains("GET /a\\nb"), "{rendered}");
            assert_eq!(
                rendered.lines().filter(|l| l.contains("on\\rhold")).count(),
                1
            );
        }
    }
}

//! The corpus report: counts by outcome, refusals grouped by kind and message (one
//! example each), the slowest specs, and the compiled sample.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::compile::Compiled;
use super::{Options, Outcome, SpecResult};
use crate::bench::{Machine, thousands};
use crate::codegen::Failure;

/// What a spec may take at most (a target, reported; the hard limit is `--time-limit`).
const SLOW: Duration = Duration::from_secs(20);

/// The share of the OpenAPI 3.0 specs that must generate (a target, reported).
const TARGET_RATE: f64 = 98.0;

/// The figures of one run.
pub struct Summary<'r> {
    results: &'r [SpecResult],
    wall: Duration,
    all: bool,
    jobs: usize,
    compiled: Option<Compiled>,
}

const LEGEND: &str = "\
## What the figures mean

- Each spec is generated with every operation selected (`Config::select_all()`), in its
  own child process (`xtask corpus-one`), so a panic, a stack overflow or a hang is
  counted for that spec; a spec still running at `--time-limit` is killed.
- **generated as they are**: strict mode. **with `lenient = true`**: a spec that breaks
  OpenAPI is generated again in lenient mode, which reads the defects that have a
  faithful reading (a dangling `$ref`, an enum value of another type: any JSON value)
  and warns of each; the target is on this figure.
- **refused**: grouped by kind (the spec breaks OpenAPI, or valid OpenAPI the generator
  cannot express; ARCHITECTURE.md says why each of the latter has no faithful form)
  and by message, numbers and quoted names left out, with one example each.
  `target/corpus/…/results.tsv` lists every spec's outcome.
- **time**: the wall time of the child process, reading, lowering, emitting and
  formatting included; the limit is a target, the hard limit is `--time-limit`.
- **compiled**: the first generated crates of the run (small ones, to keep the time
  bounded), each with a manifest named after its spec, in one workspace that shares the
  project's target folder.
";

/// Refusals that share a kind and a message (numbers and quoted names left out).
struct Group<'r> {
    count: usize,
    lenient_ok: usize,
    example: &'r SpecResult,
}

impl<'r> Summary<'r> {
    /// The figures of `results`, which took `wall`.
    pub fn new(
        results: &'r [SpecResult],
        wall: Duration,
        options: &Options,
        compiled: Option<Compiled>,
    ) -> Summary<'r> {
        Summary {
            results,
            wall,
            all: options.sample.is_none(),
            jobs: options.jobs,
            compiled,
        }
    }

    /// Specs of OpenAPI 3.1, which the generator refuses by name (not in the rate).
    fn is_v31(result: &SpecResult) -> bool {
        matches!(&result.outcome, Outcome::Refused { kind, message, .. }
            if kind == "unsupported-version" && message.starts_with("OpenAPI 3.1"))
    }

    fn in_scope(&self) -> impl Iterator<Item = &'r SpecResult> {
        self.results.iter().filter(|r| !Self::is_v31(r))
    }

    fn generated(&self) -> usize {
        self.in_scope()
            .filter(|r| matches!(r.outcome, Outcome::Generated { .. }))
            .count()
    }

    /// Specs that generate as they are, or with `lenient = true`.
    fn generated_leniently(&self) -> usize {
        self.generated()
            + self
                .in_scope()
                .filter(|r| {
                    matches!(
                        r.outcome,
                        Outcome::Refused {
                            lenient_ok: Some(true),
                            ..
                        }
                    )
                })
                .count()
    }

    /// The sum of a figure of every spec's outcome.
    fn total(&self, figure: impl Fn(&Outcome) -> u64) -> u64 {
        self.results.iter().map(|r| figure(&r.outcome)).sum()
    }

    fn percent(&self, count: usize) -> f64 {
        count as f64 * 100.0 / self.in_scope().count().max(1) as f64
    }

    fn broken(&self) -> Vec<&'r SpecResult> {
        self.results
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    Outcome::Panicked(_) | Outcome::Crashed(_) | Outcome::TimedOut
                )
            })
            .collect()
    }

    fn slow(&self) -> usize {
        self.results.iter().filter(|r| r.elapsed > SLOW).count()
    }

    /// Refusals grouped by kind, then message, most frequent first.
    fn groups(&self) -> BTreeMap<&'r str, Vec<(String, Group<'r>)>> {
        let mut by_kind: BTreeMap<&str, BTreeMap<String, Group>> = BTreeMap::new();
        for result in self.in_scope() {
            let Outcome::Refused {
                kind,
                message,
                lenient_ok,
                ..
            } = &result.outcome
            else {
                continue;
            };
            let group = by_kind
                .entry(kind)
                .or_default()
                .entry(normalize(message))
                .or_insert(Group {
                    count: 0,
                    lenient_ok: 0,
                    example: result,
                });
            group.count += 1;
            group.lenient_ok += usize::from(*lenient_ok == Some(true));
        }
        by_kind
            .into_iter()
            .map(|(kind, groups)| {
                let mut groups: Vec<(String, Group)> = groups.into_iter().collect();
                groups.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
                (kind, groups)
            })
            .collect()
    }

    /// The report, in markdown.
    pub fn render(&self, directory: &str) -> String {
        let machine = Machine::detect();
        let mut out = String::new();
        let scope = if self.all {
            "every spec".to_owned()
        } else {
            format!("a fixed sample of {} specs", self.results.len())
        };
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        let _ = writeln!(out, "# Corpus\n");
        let _ = writeln!(
            out,
            "`cargo xtask corpus` over {scope} of the APIs-guru directory (npm `{directory}`), \
             every operation selected; {} on {}, {} cores ({} at a time); {profile} build.\n",
            machine.date, machine.cpu, machine.cores, self.jobs
        );
        self.render_counts(&mut out);
        self.render_refusals(&mut out);
        self.render_broken(&mut out);
        self.render_slowest(&mut out);
        if let Some(compiled) = &self.compiled {
            compiled.render(&mut out);
        }
        out.push_str(LEGEND);
        out
    }

    fn render_counts(&self, out: &mut String) {
        let in_scope = self.in_scope().count();
        let v31 = self.results.len() - in_scope;
        let generated = self.generated();
        let refused = |wanted: &str| {
            self.in_scope()
                .filter(|r| matches!(&r.outcome, Outcome::Refused { kind, .. } if kind == wanted))
                .count()
        };
        let lenient_ok = self.generated_leniently() - generated;
        let warnings = self.total(|outcome| match outcome {
            Outcome::Generated { warnings, .. } => *warnings,
            _ => 0,
        });
        let with_warnings = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Generated { warnings: 1.., .. }))
            .count();
        let lines = self.total(|outcome| match outcome {
            Outcome::Generated { lines, .. } => *lines,
            _ => 0,
        });
        let mark = |met: bool| if met { "✅" } else { "❌" };
        let broken = self.broken().len();
        let leniently = self.generated_leniently();
        let rate = self.percent(leniently);
        let _ = writeln!(out, "| | specs | target |\n|---|---|---|");
        let _ = writeln!(out, "| OpenAPI 3.0 specs run | {in_scope} | |");
        let _ = writeln!(
            out,
            "| generated as they are | {generated} ({:.1} %) | |",
            self.percent(generated)
        );
        let _ = writeln!(
            out,
            "| generated as they are or with `lenient = true` | {leniently} ({rate:.1} %) | ≥ {TARGET_RATE} % {} |",
            mark(rate >= TARGET_RATE)
        );
        let _ = writeln!(
            out,
            "| refused: the spec breaks OpenAPI | {} (`lenient = true` generates {lenient_ok} of them) | |",
            refused("invalid-spec")
        );
        let _ = writeln!(
            out,
            "| refused: valid OpenAPI the generator cannot express | {} | |",
            refused("construct")
        );
        let other = in_scope - generated - refused("invalid-spec") - refused("construct") - broken;
        let _ = writeln!(
            out,
            "| refused otherwise (not JSON/YAML, Swagger 2, unreadable) | {other} | |"
        );
        let _ = writeln!(
            out,
            "| panics, crashes, over the time limit | {broken} | 0 {} |",
            mark(broken == 0)
        );
        let _ = writeln!(
            out,
            "| over {} s | {} | 0 {} |",
            SLOW.as_secs(),
            self.slow(),
            mark(self.slow() == 0)
        );
        let _ = writeln!(
            out,
            "| generated with warnings (the spec's defects read as documented) | {with_warnings} ({warnings} warnings) | |"
        );
        let _ = writeln!(
            out,
            "| OpenAPI 3.1, refused by name (not counted above) | {v31} | |"
        );
        let _ = writeln!(
            out,
            "\n{} lines of Rust generated; {:.1} s wall time in all.\n",
            thousands(lines),
            self.wall.as_secs_f64()
        );
    }

    fn render_refusals(&self, out: &mut String) {
        for (kind, groups) in self.groups() {
            let title = match kind {
                "invalid-spec" => "The spec breaks OpenAPI",
                "construct" => "Valid OpenAPI the generator cannot express",
                other => other,
            };
            let _ = writeln!(out, "## Refused: {title}\n");
            let _ = writeln!(
                out,
                "| specs | message | lenient generates | example (spec, pointer) |\n|---|---|---|---|"
            );
            for (message, group) in groups {
                let pointer = match &group.example.outcome {
                    Outcome::Refused {
                        pointer: Some(p), ..
                    } => format!(" `{}`", cell(p)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | `{}`{pointer} |",
                    group.count,
                    cell(&message),
                    group.lenient_ok,
                    cell(&group.example.spec)
                );
            }
            let _ = writeln!(out);
        }
    }

    fn render_broken(&self, out: &mut String) {
        let broken = self.broken();
        if broken.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Panics, crashes, time-outs\n");
        for result in broken {
            let what = match &result.outcome {
                Outcome::Panicked(m) => format!("panicked: {m}"),
                Outcome::Crashed(m) => format!("crashed: {m}"),
                _ => "killed at the time limit".to_owned(),
            };
            let _ = writeln!(out, "- `{}`: {}", result.spec, cell(&what));
        }
        let _ = writeln!(out);
    }

    fn render_slowest(&self, out: &mut String) {
        let mut slowest: Vec<&SpecResult> = self.results.iter().collect();
        slowest.sort_by(|a, b| b.elapsed.cmp(&a.elapsed).then_with(|| a.spec.cmp(&b.spec)));
        let _ = writeln!(out, "## Slowest specs\n");
        let _ = writeln!(out, "| spec | time | outcome |\n|---|---|---|");
        for result in slowest.iter().take(10) {
            let outcome = match &result.outcome {
                Outcome::Generated {
                    operations,
                    types,
                    lines,
                    ..
                } => format!(
                    "{operations} operations, {types} types, {} lines",
                    thousands(*lines)
                ),
                Outcome::Refused { kind, .. } => format!("refused ({kind})"),
                Outcome::Panicked(_) => "panicked".into(),
                Outcome::Crashed(_) => "crashed".into(),
                Outcome::TimedOut => "killed at the time limit".into(),
            };
            let _ = writeln!(
                out,
                "| `{}` | {:.2} s | {outcome} |",
                result.spec,
                result.elapsed.as_secs_f64()
            );
        }
        let _ = writeln!(out);
    }

    /// Fails when something broke: a panic, a crash, a time-out, or a compiled crate
    /// that is not clean. Missed targets are reported, not failed.
    pub fn check(&self, _options: &Options) -> Result<(), Failure> {
        let broken = self.broken();
        if !broken.is_empty() {
            let names: Vec<&str> = broken.iter().map(|r| r.spec.as_str()).collect();
            return Err(Failure::Error(format!(
                "the generator panicked, crashed or hung on {}",
                names.join(", ")
            )));
        }
        if let Some(compiled) = &self.compiled
            && !compiled.failures.is_empty()
        {
            return Err(Failure::Error(format!(
                "generated crates did not compile cleanly: {}",
                compiled.failures.join(", ")
            )));
        }
        Ok(())
    }
}

/// Every spec's outcome, one per line: spec, seconds, outcome, kind, pointer, message
/// (tab-separated).
pub fn listing(results: &[SpecResult]) -> String {
    let mut out = String::from("spec\tseconds\toutcome\tkind\tpointer\tmessage\n");
    for r in results {
        let (outcome, kind, pointer, message) = match &r.outcome {
            Outcome::Generated { warnings, .. } => {
                ("generated", "", "", format!("{warnings} warnings"))
            }
            Outcome::Refused {
                kind,
                pointer,
                message,
                ..
            } => (
                "refused",
                kind.as_str(),
                pointer.as_deref().unwrap_or(""),
                message.clone(),
            ),
            Outcome::Panicked(m) => ("panicked", "", "", m.clone()),
            Outcome::Crashed(m) => ("crashed", "", "", m.clone()),
            Outcome::TimedOut => ("timed-out", "", "", String::new()),
        };
        let _ = writeln!(
            out,
            "{}\t{:.3}\t{outcome}\t{kind}\t{pointer}\t{}",
            r.spec,
            r.elapsed.as_secs_f64(),
            message.replace(['\t', '\n'], " ")
        );
    }
    out
}

/// A message with its particulars (quoted names, numbers) left out, so refusals of
/// one kind group together.
fn normalize(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                if !quoted {
                    out.push_str("\"…\"");
                }
                quoted = !quoted;
            }
            '\\' if quoted => {
                chars.next();
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text safe in a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_group_without_their_particulars() {
        assert_eq!(
            normalize(r##"dangling $ref "#/components/schemas/A\"B""##),
            r#"dangling $ref "…""#
        );
        assert_eq!(
            normalize("enum value 12 is not a string"),
            "enum value N is not a string"
        );
        assert_eq!(normalize("a range 2XX"), "a range NXX");
    }
}

//! The API report: pairs of small specs (`fixtures/changes/NAME.old.yaml` and
//! `NAME.new.yaml`), one per kind of change, with the expected report as a snapshot;
//! and Box's real history (2025-06 → 2026-03 → today, from `../shared` when it is
//! there), for the upload selection and for the whole spec.

mod common;

use std::path::{Path, PathBuf};

use common::workspace_root;
use oas_codegen::report::{Report, Summary, compare};
use oas_codegen::{Config, load, lower};

/// The summary of `spec` under `config`: load and lower, no formatting.
fn summary(spec: &Path, config: &Config) -> Summary {
    let loaded = load::load(spec, &config.overlay_paths())
        .unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
    let api = lower::lower(&loaded, config).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
    Summary::of(&api)
}

fn changes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/changes")
}

/// One side of a pair: its spec, and its config (`NAME.SIDE.toml`, else every operation).
fn side(name: &str, side: &str) -> Summary {
    let dir = changes_dir();
    let toml = dir.join(format!("{name}.{side}.toml"));
    let config = if toml.exists() {
        Config::load(&toml).unwrap()
    } else {
        let mut config = Config::select_all();
        config.dir = dir.clone();
        config
    };
    let summary = summary(&dir.join(format!("{name}.{side}.yaml")), &config);
    let json = summary.to_json();
    assert_eq!(
        Summary::from_json(&json).unwrap(),
        summary,
        "{name}.{side}: the summary reads back"
    );
    summary
}

fn pair(name: &str) -> Report {
    compare(&side(name, "old"), &side(name, "new"))
}

macro_rules! change_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let report = pair(stringify!($name));
                insta::assert_snapshot!(concat!("change_", stringify!($name)), report.text(usize::MAX));
            }
        )*

        #[test]
        fn every_pair_of_specs_has_a_test() {
            let listed = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(changes_dir()).unwrap() {
                let file = entry.unwrap().file_name().to_string_lossy().into_owned();
                let Some(name) = file.strip_suffix(".old.yaml") else { continue };
                assert!(listed.contains(&name), "{file} has no test");
                assert!(changes_dir().join(format!("{name}.new.yaml")).exists(), "{file} has no pair");
            }
        }
    };
}

change_tests!(
    bodies,
    enum_values,
    keep_unknown_fields,
    operations,
    outcomes,
    parameters,
    request_fields,
    response_fields,
    styles,
    types,
    unchanged,
    union_variants,
    usage,
);

#[test]
fn every_change_has_a_pointer_into_the_spec_except_api_wide_ones_and_servers() {
    for name in [
        "bodies",
        "operations",
        "outcomes",
        "parameters",
        "response_fields",
        "types",
    ] {
        for change in pair(name).changes {
            let server_or_config = matches!(
                change.subject,
                oas_codegen::report::Subject::Api | oas_codegen::report::Subject::Server(_)
            );
            let pointer = change.pointer.clone().unwrap_or_default();
            assert_eq!(
                pointer.starts_with('/'),
                !server_or_config,
                "{name}: {change:?}"
            );
        }
    }
}

#[test]
fn the_markdown_report_lists_every_change_with_its_mark() {
    let report = pair("response_fields");
    let markdown = report.markdown();
    insta::assert_snapshot!("change_response_fields_markdown", markdown);
    let marked = markdown
        .lines()
        .filter(|l| l.starts_with("- **breaking**") || l.starts_with("- **compatible**"))
        .count();
    assert_eq!(marked, report.changes.len());
}

#[test]
fn a_long_report_lists_the_breaking_changes_and_counts_the_compatible_ones() {
    let report = pair("response_fields");
    let compatible = report.changes.len() - report.breaking();
    assert!(report.breaking() > 1 && compatible > 1, "{report:?}");
    // The breaking lines and their one heading.
    let short = report.text(report.breaking() + 1);
    assert!(
        short.contains(&format!(
            "{compatible} compatible changes in 1 type, not listed here"
        )),
        "{short}"
    );
    assert_eq!(
        short.matches("\n    breaking  ").count(),
        report.breaking(),
        "{short}"
    );
    assert!(!short.contains("\n    compatible"), "{short}");
    let shorter = report.text(2);
    assert!(
        shorter.contains(&format!(
            "… and {} more breaking changes",
            report.breaking() - 1
        )),
        "{shorter}"
    );
    assert_eq!(shorter.matches("\n    breaking  ").count(), 1, "{shorter}");
}

// ---------------------------------------------------------------------------------
// Box's history.

/// Box's spec at three dates, oldest first, when `../shared` is beside the project.
fn box_history() -> Option<Vec<(&'static str, PathBuf)>> {
    let dir = workspace_root().join("../shared/box-openapi");
    let versions = vec![
        ("2025-06-16", dir.join("history/openapi-2025-06-16.json")),
        ("2026-03-20", dir.join("history/openapi-2026-03-20.json")),
        ("2026-06-29", dir.join("openapi.json")),
    ];
    versions.iter().all(|(_, p)| p.exists()).then_some(versions)
}

/// The reports between consecutive versions under `config`, as snapshot name and text.
fn history_reports(config: &Config, label: &str, limit: usize) -> Option<Vec<(String, Report)>> {
    let Some(versions) = box_history() else {
        println!("skipped: ../shared/box-openapi (with history/) is not there");
        return None;
    };
    let summaries: Vec<(&str, Summary)> = versions
        .iter()
        .map(|(date, path)| (*date, summary(path, config)))
        .collect();
    let mut reports = Vec::new();
    for pair in summaries.windows(2) {
        let [(from, old), (to, new)] = pair else {
            unreachable!()
        };
        let report = compare(old, new);
        let text = report.text(limit);
        if std::env::var_os("SHOW_REPORTS").is_some() {
            println!("==== {label} {from} → {to}\n{text}\n{}", report.markdown());
        }
        assert!(
            text.lines().count() <= limit + 8,
            "{label} {from} → {to}: {} lines",
            text.lines().count()
        );
        reports.push((format!("box_{label}_{from}_to_{to}"), report));
    }
    Some(reports)
}

#[test]
fn box_history_for_the_upload_selection() {
    let config = Config::load(&workspace_root().join("spec/codegen.toml")).unwrap();
    let Some(reports) = history_reports(&config, "upload", 40) else {
        return;
    };
    for (name, report) in reports {
        insta::assert_snapshot!(name, report.text(40));
    }
}

#[test]
fn box_history_for_the_whole_spec() {
    let Some(reports) = history_reports(&Config::select_all(), "all", 40) else {
        return;
    };
    for (name, report) in reports {
        assert!(
            report.breaking() > 0,
            "{name}: Box's changes do break users"
        );
        let markdown = report.markdown();
        let listed = markdown.lines().filter(|l| l.starts_with("- **")).count();
        assert_eq!(
            listed,
            report.changes.len(),
            "{name}: the Markdown lists every change"
        );
        insta::assert_snapshot!(name, report.text(40));
    }
}

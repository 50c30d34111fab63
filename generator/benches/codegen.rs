//! In-process codegen timings with criterion: the whole pipeline ([`generate`]) on a spec,
//! beside its floor, the bare serde_json parse of the same document into
//! `openapiv3::OpenAPI` (no generator can be faster than reading its input); and what
//! the API report adds to a `cargo xtask codegen` run (summary, the previous one read
//! back, comparison, both renderings).
//!
//! Inputs: `spec/` with `spec/codegen.toml` (its selection and overlays), and Box's full
//! official spec with every operation selected when `../shared/box-openapi/openapi.json`
//! exists (or `OAS_BENCH_FULL_SPEC` names another file). `OAS_BENCH_SMOKE=1` measures
//! `spec/` only, briefly: it checks that the benchmark runs, not how fast.
//!
//! `cargo xtask bench` runs this and reads each median from criterion's
//! `estimates.json`; `cargo bench -p oas-codegen --bench codegen` shows criterion's own
//! report.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use oas_codegen::report::{Summary, compare};
use oas_codegen::{Config, Input, generate};

/// One input: what `generate` reads, and the same document as JSON text for the floor.
struct Case {
    /// Criterion's group name (and folder under its output directory).
    name: &'static str,
    input: Input,
    json: String,
    /// An older version of the spec, whose summary the report starts from (else the
    /// same spec: nothing changed, every item still compared).
    previous: Option<PathBuf>,
}

impl Case {
    fn new(name: &'static str, input: Input) -> Case {
        let text = std::fs::read_to_string(&input.spec)
            .unwrap_or_else(|e| panic!("{}: {e}", input.spec.display()));
        // A YAML spec is turned into JSON ahead of time, so the floor is the same
        // document through serde_json, whatever format it is stored in.
        let json = if input.spec.extension().is_some_and(|e| e == "json") {
            text
        } else {
            let value: serde_json::Value = serde_yaml::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", input.spec.display()));
            value.to_string()
        };
        Case {
            name,
            input,
            json,
            previous: None,
        }
    }

    /// The summary the report compares with, as the JSON the previous run left.
    fn previous_summary(&self, current: &Summary) -> String {
        let Some(path) = &self.previous else {
            return current.to_json();
        };
        let input = Input {
            spec: path.clone(),
            ..self.input.clone()
        };
        match generate(&input) {
            Ok(output) => Summary::of(&output.api).to_json(),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

fn cases(smoke: bool) -> Vec<Case> {
    let root = workspace_root();
    let config_path = root.join("spec/codegen.toml");
    let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
    let spec = match &config.spec {
        Some(spec) => config.dir.join(spec),
        None => panic!("{} names no spec", config_path.display()),
    };
    let mut cases = vec![Case::new(
        "spec",
        Input {
            spec,
            config,
            spec_label: "spec".into(),
        },
    )];
    let full = std::env::var_os("OAS_BENCH_FULL_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/box-openapi/openapi.json"));
    if !smoke && full.exists() {
        let mut case = Case::new(
            "full",
            Input {
                spec: full,
                config: Config::select_all(),
                spec_label: "openapi.json".into(),
            },
        );
        let history = root.join("../shared/box-openapi/history/openapi-2026-03-20.json");
        case.previous = history.exists().then_some(history);
        cases.push(case);
    }
    cases
}

fn main() {
    let smoke = std::env::var_os("OAS_BENCH_SMOKE").is_some_and(|v| v != "0");
    let (warm_up, measurement) = if smoke {
        (Duration::from_millis(50), Duration::from_millis(200))
    } else {
        (Duration::from_secs(1), Duration::from_secs(4))
    };
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .configure_from_args();
    for case in cases(smoke) {
        // Check once, outside the timings, that both routines work on this input.
        let api = match generate(&case.input) {
            Ok(output) => output.api,
            Err(e) => panic!("{}: {e}", case.input.spec.display()),
        };
        let previous = case.previous_summary(&Summary::of(&api));
        if let Err(e) = serde_json::from_str::<openapiv3::OpenAPI>(&case.json) {
            panic!("{}: {e}", case.input.spec.display());
        }
        let mut group = criterion.benchmark_group(case.name);
        // Flat sampling: every sample runs the same number of whole generations, so the
        // median is that of complete runs (at least 10), not of a regression slope.
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("generate", |b| {
            b.iter(|| generate(black_box(&case.input)).map(|o| o.files.len()))
        });
        group.bench_function("parse_floor", |b| {
            b.iter(|| serde_json::from_str::<openapiv3::OpenAPI>(black_box(&case.json)).is_ok())
        });
        // What `cargo xtask codegen` adds to a run for the report.
        group.bench_function("report", |b| {
            b.iter(|| {
                let summary = Summary::of(black_box(&api));
                let json = summary.to_json();
                let old = Summary::from_json(black_box(&previous)).ok()?;
                let report = compare(&old, &summary);
                Some(json.len() + report.text(60).len() + report.markdown().len())
            })
        });
        group.finish();
    }
    criterion.final_summary();
}

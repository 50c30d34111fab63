//! Every fixture's output, and (when present) Box's full official spec with every
//! operation selected and unknown fields kept, is compiled and linted with
//! `clippy -D warnings`: a snapshot of code that does not compile would guard nothing.

mod common;

use common::{clippy_crate, fixtures, generate_fixture};
use oas_codegen::{Config, Input, generate};

#[test]
fn fixture_outputs_compile_without_warnings() {
    let modules: Vec<(String, oas_codegen::Output)> = fixtures()
        .into_iter()
        .map(|(name, path)| (name, generate_fixture(&path)))
        .collect();
    clippy_crate("fixtures", &modules);
}

#[test]
#[ignore = "compiles ~58,000 lines; run with --ignored (CI does)"]
fn full_box_spec_compiles_without_warnings() {
    let Some(spec) = common::box_spec() else {
        println!("skipped: ../shared/box-openapi/openapi.json is not there");
        return;
    };
    let output = generate(&Input {
        spec: spec.clone(),
        config: Config {
            keep_unknown_fields: true,
            ..Config::select_all()
        },
        spec_label: "openapi.json".into(),
    })
    .unwrap();
    assert!(
        output.api.operations.len() >= 250,
        "{} operations",
        output.api.operations.len()
    );
    clippy_crate("box_full", &[("box_full".into(), output)]);
}

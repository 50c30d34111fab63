//! The output does not depend on how many threads format it: a file formatted in units,
//! on any number of threads, is the file formatted whole.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use oas_codegen::{Config, emit, format, load, lower};

fn check(spec: &Path) {
    let loaded = load::load(spec, &[]).unwrap_or_else(|e| panic!("{e}"));
    let api = lower::lower(&loaded, &Config::select_all()).unwrap_or_else(|e| panic!("{e}"));
    let header = vec!["header".to_owned()];
    let whole: BTreeMap<String, String> = emit::emit(&api)
        .into_iter()
        .map(|(name, tokens)| {
            let text = format::format_file(name, tokens, &header).unwrap();
            (name.to_owned(), text)
        })
        .collect();
    for threads in [1, 2, 7] {
        let sliced = format::format_api(&api, &header, threads).unwrap();
        assert!(
            sliced == whole,
            "{} differs on {threads} threads",
            spec.display()
        );
    }
}

#[test]
fn fixtures_and_our_spec_format_the_same_on_any_number_of_threads() {
    for (_, path) in common::fixtures() {
        check(&path);
    }
    check(&common::workspace_root().join("spec/box-upload.yaml"));
}

#[test]
fn the_full_box_spec_formats_the_same_in_many_units() {
    let Some(spec) = common::box_spec() else {
        println!("skipped: ../shared/box-openapi/openapi.json is not there");
        return;
    };
    check(&spec);
}

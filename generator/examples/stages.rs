//! Prints how long each pipeline stage takes on a spec (a quick look, not a benchmark).
//!
//! `cargo run --release -p oas-codegen --example stages -- SPEC [--all]`

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = std::path::PathBuf::from(args.first().expect("usage: stages SPEC [--all]"));
    let mut config = oas_codegen::Config::select_all();
    config.dir = spec.parent().unwrap().to_owned();
    for round in 0..3 {
        let t = Instant::now();
        let loaded = oas_codegen::load::load(&spec, &[]).unwrap();
        let t_load = t.elapsed();
        let t = Instant::now();
        let api = oas_codegen::lower::lower(&loaded, &config).unwrap();
        let t_lower = t.elapsed();
        let t = Instant::now();
        let files = oas_codegen::emit::emit(&api);
        let t_emit = t.elapsed();
        let t = Instant::now();
        let mut parsed = Vec::new();
        for (name, tokens) in files {
            parsed.push((name, syn::parse2::<syn::File>(tokens).unwrap()));
        }
        let t_parse = t.elapsed();
        let t = Instant::now();
        let lines: usize = parsed
            .iter()
            .map(|(_, f)| prettyplease::unparse(f).lines().count())
            .sum();
        let t_print = t.elapsed();
        let t = Instant::now();
        let summary = oas_codegen::report::Summary::of(&api);
        let t_summary = t.elapsed();
        let t = Instant::now();
        let json = summary.to_json();
        let t_write = t.elapsed();
        let t = Instant::now();
        let previous = oas_codegen::report::Summary::from_json(&json).unwrap();
        let t_read = t.elapsed();
        let t = Instant::now();
        let report = oas_codegen::report::compare(&previous, &summary);
        let rendered = report.text(60).len() + report.markdown().len();
        let t_compare = t.elapsed();
        println!(
            "round {round}: load {t_load:?} lower {t_lower:?} emit {t_emit:?} syn {t_parse:?} prettyplease {t_print:?} ({lines} lines)\n  \
             report: summary {t_summary:?} json {t_write:?} ({} bytes) read {t_read:?} compare+render {t_compare:?} ({rendered} bytes)",
            json.len()
        );
    }
}

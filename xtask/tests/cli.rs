//! `cargo xtask codegen` as users run it: exit codes, messages, `--check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn committed_generated_code_is_fresh() {
    let output = xtask(&["codegen", "--check"]);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
}

#[test]
fn check_reports_a_stale_folder_with_a_diff_and_exit_1() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let written = xtask(&["codegen", "--out", out_dir]);
    assert!(written.status.success(), "{}", stderr(&written));
    assert!(
        out.path().join("Cargo.toml").exists(),
        "a new output folder gets a manifest"
    );
    assert!(
        xtask(&["codegen", "--out", out_dir, "--check"])
            .status
            .success()
    );

    let types = out.path().join("src/generated/types.rs");
    let text = std::fs::read_to_string(&types).unwrap();
    std::fs::write(
        &types,
        text.replace("pub struct UploadSession {", "pub struct UploadSessionX {"),
    )
    .unwrap();
    std::fs::write(
        out.path().join("src/generated/extra.rs"),
        "// left behind\n",
    )
    .unwrap();
    let stale = xtask(&["codegen", "--out", out_dir, "--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&stale.stdout);
    assert!(
        diff.contains("-pub struct UploadSessionX {")
            && diff.contains("+pub struct UploadSession {"),
        "{diff}"
    );
    assert!(
        diff.contains("extra.rs is not generated any more"),
        "{diff}"
    );
    assert!(
        stderr(&stale).contains("is stale (extra.rs, types.rs)"),
        "{}",
        stderr(&stale)
    );

    // Writing again repairs the folder and removes the stray file.
    assert!(xtask(&["codegen", "--out", out_dir]).status.success());
    assert!(
        xtask(&["codegen", "--out", out_dir, "--check"])
            .status
            .success()
    );
    assert!(!out.path().join("src/generated/extra.rs").exists());
}

#[test]
fn bad_input_exits_1_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(String, &str, &str)> = vec![
        ("missing.yaml".into(), "", "cannot read"),
        (
            "bad.yaml".into(),
            "openapi: 3.0.3\ninfo: [\n",
            "invalid YAML at line",
        ),
        (
            "bad.json".into(),
            "{\"openapi\": }",
            "invalid JSON at line 1, column 13",
        ),
        (
            "v31.yaml".into(),
            "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
            "OpenAPI 3.1.0 is not supported",
        ),
        (
            "swagger.json".into(),
            "{\"swagger\": \"2.0\"}",
            "Swagger 2.0 is not supported",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(&name);
        if !text.is_empty() {
            std::fs::write(&path, text).unwrap();
        }
        let output = xtask(&["codegen", "--check", "--spec", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(
            message.starts_with("error: ") && message.contains(expected),
            "{name}: {message}"
        );
        assert!(!message.contains("panicked"), "{name}: {message}");
    }
}

#[test]
fn unknown_option_is_a_usage_error() {
    let output = xtask(&["codegen", "--frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown option \"--frobnicate\""));
}

#[test]
fn generated_files_are_left_alone_by_cargo_fmt() {
    // prettyplease formats generated code; `#[rustfmt::skip]` on the module keeps
    // rustfmt from fighting it, so `cargo fmt --check` passes on the crate.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["fmt", "--check", "-p", "box-api"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let lib = std::fs::read_to_string(root().join("generated/src/lib.rs")).unwrap();
    assert!(lib.contains("#[rustfmt::skip]\nmod generated;"));
}

#[test]
fn the_generated_crate_holds_only_lib_rs_and_marked_generated_files() {
    // `generated/src/` is `lib.rs` (module declaration and re-exports) plus what the
    // xtask writes; hand-written code belongs in `upload/`.
    let src = root().join("generated/src");
    let mut entries: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["generated", "lib.rs"]);
    for entry in std::fs::read_dir(src.join("generated")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("// @generated by `cargo xtask codegen`"),
            "{} starts with {first:?}",
            path.display()
        );
    }
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let code: Vec<&str> = lib
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    assert!(
        code.iter().all(|l| l.starts_with("pub use ")
            || l.starts_with("mod ")
            || l.starts_with("#[rustfmt::skip]")),
        "generated/src/lib.rs holds more than declarations and re-exports: {code:?}"
    );
}

#[test]
fn out_names_a_new_crate_after_its_folder_as_a_valid_package_name() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("2 api.example.com");
    let written = xtask(&["codegen", "--out", out.to_str().unwrap()]);
    assert!(written.status.success(), "{}", stderr(&written));
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"api-2-api-example-com\""),
        "{manifest}"
    );

    let named = parent.path().join("named");
    let written = xtask(&[
        "codegen",
        "--out",
        named.to_str().unwrap(),
        "--crate-name",
        "my_client",
    ]);
    assert!(written.status.success(), "{}", stderr(&written));
    let manifest = std::fs::read_to_string(named.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"my_client\""), "{manifest}");

    let refused = xtask(&["codegen", "--out", "x", "--crate-name", "my.client"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--crate-name \"my.client\" holds '.'"),
        "{}",
        stderr(&refused)
    );
}

/// A small spec whose `File` has the given properties (besides `id`).
fn spec_with_file_fields(fields: &str) -> String {
    format!(
        r##"openapi: 3.0.3
info: {{title: Files, version: "1"}}
servers: [{{url: "https://api.example.com"}}]
paths:
  /files/{{id}}:
    get:
      operationId: get_file
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: string}}}}
      responses:
        "200":
          description: The file.
          content: {{application/json: {{schema: {{$ref: "#/components/schemas/File"}}}}}}
components:
  schemas:
    File:
      type: object
      required: [id]
      properties:
        id: {{type: string}}
{fields}"##
    )
}

#[test]
fn codegen_reports_what_the_run_changes_in_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("codegen.toml"), "[select]\nall = true\n").unwrap();
    let old = spec_with_file_fields("        size: {type: integer, format: int32}\n");
    let new = spec_with_file_fields("        name: {type: string}\n");
    std::fs::write(path("old.yaml"), old).unwrap();
    std::fs::write(path("new.yaml"), new).unwrap();
    let run = |spec: &str, extra: &[&str]| {
        let (config, out) = (path("codegen.toml"), path("out"));
        let mut args = vec![
            "codegen", "--config", &config, "--spec", spec, "--out", &out,
        ];
        args.extend_from_slice(extra);
        xtask(&args)
    };
    let stdout = |output: &Output| String::from_utf8_lossy(&output.stdout).into_owned();

    let first = run(&path("old.yaml"), &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("API report: none (no previous API summary at"),
        "{}",
        stdout(&first)
    );
    let summary_path = dir.path().join("out/api-summary.json");
    let written = std::fs::read_to_string(&summary_path).unwrap();
    assert!(
        written.contains("\"size\": {\"optional\": true"),
        "{written}"
    );

    // --check on a spec that changed: stale, with the report of what regenerating does.
    let check = run(&path("new.yaml"), &["--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let report = stdout(&check);
    for line in [
        "API changes (Files 1): 1 breaking, 1 compatible",
        "  type File",
        "    breaking    field `size` removed  @ /components/schemas/File/properties/size",
        "    compatible  field `name` added, optional `String`  @ /components/schemas/File/properties/name",
    ] {
        assert!(report.contains(line), "{line:?} is not in:\n{report}");
    }
    assert!(
        stderr(&check).contains("api-summary.json"),
        "{}",
        stderr(&check)
    );
    assert_eq!(
        std::fs::read_to_string(&summary_path).unwrap(),
        written,
        "--check writes nothing"
    );

    // Writing prints the same report and, with --report, writes it as Markdown.
    let write = run(&path("new.yaml"), &["--report", &path("report.md")]);
    assert!(write.status.success(), "{}", stderr(&write));
    assert!(
        stdout(&write).contains("breaking    field `size` removed"),
        "{}",
        stdout(&write)
    );
    let markdown = std::fs::read_to_string(path("report.md")).unwrap();
    assert!(
        markdown.starts_with("# API changes: Files 1\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "- **breaking** field `size` removed — `/components/schemas/File/properties/size`"
        ),
        "{markdown}"
    );

    let again = run(&path("new.yaml"), &["--check"]);
    assert!(
        again.status.success(),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    assert_eq!(stdout(&again), "API unchanged (Files 1)\n");

    // A summary that is not one is reported, and regenerating replaces it.
    std::fs::write(&summary_path, "{\"format\": 1, \"api\": [}").unwrap();
    let broken = run(&path("new.yaml"), &[]);
    assert!(broken.status.success(), "{}", stderr(&broken));
    assert!(
        stdout(&broken).contains("is not an API summary: ") && stdout(&broken).contains("line 1"),
        "{}",
        stdout(&broken)
    );
    assert!(run(&path("new.yaml"), &["--check"]).status.success());
}

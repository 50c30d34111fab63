//! Bad input gets a clear error that says what is wrong and where; never a panic.

mod common;

use std::path::Path;

use oas_codegen::{Config, Error, Input, generate};

fn generate_text(file_name: &str, text: &str) -> Result<oas_codegen::Output, Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, text).unwrap();
    generate_path(&path, Config::select_all())
}

fn generate_path(path: &Path, mut config: Config) -> Result<oas_codegen::Output, Error> {
    if config.dir.as_os_str().is_empty() {
        config.dir = path.parent().unwrap().to_owned();
    }
    generate(&Input {
        spec: path.to_owned(),
        config,
        spec_label: "spec".into(),
    })
}

fn message(result: Result<oas_codegen::Output, Error>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that `spec` fails with a message holding `expected`.
#[track_caller]
fn assert_refused(spec: &str, expected: &str) {
    let msg = match generate_text("spec.yaml", spec) {
        Ok(_) => panic!("expected an error {expected:?} from:\n{spec}"),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains(expected), "expected {expected:?} in:\n{msg}");
}

const MINIMAL: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    get:
      operationId: get_x
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/X"}
components:
  schemas:
    X:
      type: object
      properties:
        a: {type: string}
"##;

#[test]
fn minimal_spec_generates() {
    let output = generate_text("spec.yaml", MINIMAL).unwrap();
    assert_eq!(output.api.operations.len(), 1);
}

#[test]
fn missing_file() {
    let msg = message(generate_path(
        Path::new("/nonexistent/spec.yaml"),
        Config::select_all(),
    ));
    assert!(
        msg.starts_with("cannot read /nonexistent/spec.yaml"),
        "{msg}"
    );
}

#[test]
fn invalid_yaml_has_line_and_column() {
    let msg = message(generate_text(
        "spec.yaml",
        "openapi: 3.0.3\ninfo:\n  title: [unclosed\n",
    ));
    assert!(msg.contains("invalid YAML at line"), "{msg}");
    assert!(msg.contains("spec.yaml"), "{msg}");
}

#[test]
fn invalid_json_has_line_and_column() {
    let msg = message(generate_text(
        "spec.json",
        "{\n  \"openapi\": \"3.0.3\",\n  \"info\": }\n",
    ));
    assert!(msg.contains("invalid JSON at line 3, column 11"), "{msg}");
}

#[test]
fn openapi_3_1_is_not_supported() {
    let msg = message(generate_text(
        "spec.yaml",
        &MINIMAL.replace("3.0.3", "3.1.0"),
    ));
    assert!(msg.contains("OpenAPI 3.1.0 is not supported"), "{msg}");
}

#[test]
fn swagger_2_is_not_supported() {
    let msg = message(generate_text(
        "spec.json",
        r#"{"swagger": "2.0", "info": {}, "paths": {}}"#,
    ));
    assert!(msg.contains("Swagger 2.0 is not supported"), "{msg}");
}

#[test]
fn not_an_openapi_document() {
    let msg = message(generate_text("spec.yaml", "hello: world\n"));
    assert!(msg.contains("at /openapi: missing"), "{msg}");
}

#[test]
fn schema_that_does_not_fit_openapi_names_its_pointer() {
    let bad = MINIMAL.replace("description: ok", "description: [1, 2]");
    let msg = message(generate_text("spec.yaml", &bad));
    assert!(msg.contains("at /paths/~1x/get/responses/200"), "{msg}");
}

#[test]
fn dangling_ref_names_pointer_and_target() {
    let bad = MINIMAL.replace(
        "a: {type: string}",
        "a: {$ref: \"#/components/schemas/Nope\"}",
    );
    let msg = message(generate_text("spec.yaml", &bad));
    assert!(
        msg.contains(
            "at /components/schemas/X/properties/a: dangling $ref \"#/components/schemas/Nope\""
        ),
        "{msg}"
    );
}

#[test]
fn unsupported_construct_is_named_by_pointer() {
    let bad = MINIMAL.replace("a: {type: string}", "a: {not: {type: string}}");
    let msg = message(generate_text("spec.yaml", &bad));
    assert!(
        msg.contains("at /components/schemas/X/properties/a: cannot generate code for `not`"),
        "{msg}"
    );
}

#[test]
fn cookie_parameter_is_refused() {
    let bad = MINIMAL.replace(
        "      operationId: get_x\n",
        "      operationId: get_x\n      parameters:\n        - {name: c, in: cookie, schema: {type: string}}\n",
    );
    let msg = message(generate_text("spec.yaml", &bad));
    assert!(
        msg.contains("at /paths/~1x/get/parameters/0: cannot generate code for a cookie parameter"),
        "{msg}"
    );
}

#[test]
fn path_placeholder_without_parameter() {
    let bad = MINIMAL.replace("  /x:\n", "  /x/{id}:\n");
    let msg = message(generate_text("spec.yaml", &bad));
    assert!(msg.contains("has {id} but no path parameter"), "{msg}");
}

#[test]
fn overlay_target_that_selects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, MINIMAL).unwrap();
    std::fs::write(
        dir.path().join("o.yaml"),
        "overlay: 1.0.0\ninfo: {title: o, version: '1'}\nactions:\n  - target: $.paths['/gone'].get\n    update: {summary: s}\n",
    )
    .unwrap();
    let mut config = Config::select_all();
    config.overlays = vec!["o.yaml".into()];
    config.dir = dir.path().to_owned();
    let msg = message(generate_path(&spec, config));
    assert!(
        msg.contains("o.yaml")
            && msg.contains("/actions/0/target")
            && msg.contains("selects nothing"),
        "{msg}"
    );
}

#[test]
fn overlay_update_and_remove_apply() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, MINIMAL).unwrap();
    std::fs::write(
        dir.path().join("o.yaml"),
        "overlay: 1.0.0\ninfo: {title: o, version: '1'}\nactions:\n  \
         - target: $.components.schemas.X.properties\n    update: {b: {type: integer}}\n  \
         - target: $.components.schemas.X.properties.a\n    remove: true\n",
    )
    .unwrap();
    let mut config = Config::select_all();
    config.overlays = vec!["o.yaml".into()];
    config.dir = dir.path().to_owned();
    let output = generate_path(&spec, config).unwrap();
    let types = &output.files["types.rs"];
    assert!(types.contains("pub b: Option<i64>"), "{types}");
    assert!(!types.contains("pub a:"), "{types}");
}

#[test]
fn config_naming_an_unknown_operation() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, MINIMAL).unwrap();
    let mut config =
        Config::parse("[select]\nall = true\n[operations]\nget_y = \"fetch\"\n").unwrap();
    config.dir = dir.path().to_owned();
    let msg = message(generate_path(&spec, config));
    assert!(
        msg.contains("names operation \"get_y\", which") && msg.contains("does not have"),
        "{msg}"
    );
}

#[test]
fn config_syntax_error_has_line() {
    let err = Config::parse("[select\n").unwrap_err();
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn selecting_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, MINIMAL).unwrap();
    let mut config = Config::parse("[select]\ntags = [\"nope\"]\n").unwrap();
    config.dir = dir.path().to_owned();
    let msg = message(generate_path(&spec, config));
    assert!(
        msg.contains("selects tag \"nope\", which no operation"),
        "{msg}"
    );
}

#[test]
fn component_refs_resolve_and_a_ref_cycle_is_an_error_not_a_crash() {
    let with_params = |parameters: &str| {
        MINIMAL
            .replace(
                "      operationId: get_x\n",
                "      operationId: get_x\n      parameters:\n        - $ref: \"#/components/parameters/A\"\n",
            )
            .replace("components:\n", &format!("components:\n  parameters:\n{parameters}"))
    };
    let resolved = with_params(
        "    A: {$ref: \"#/components/parameters/B\"}\n    B: {name: limit, in: query, schema: {type: integer}}\n",
    );
    let output = generate_text("spec.yaml", &resolved).unwrap();
    assert_eq!(output.api.operations[0].query_params[0].wire_name, "limit");

    let cycle = with_params("    A: {$ref: \"#/components/parameters/A\"}\n");
    let msg = message(generate_text("spec.yaml", &cycle));
    assert!(
        msg.contains("at /paths/~1x/get/parameters/0: a cycle"),
        "{msg}"
    );

    let dangling = with_params("    B: {name: limit, in: query, schema: {type: integer}}\n");
    let msg = message(generate_text("spec.yaml", &dangling));
    assert!(
        msg.contains("dangling $ref \"#/components/parameters/A\""),
        "{msg}"
    );
}

#[test]
fn a_cycle_of_schema_aliases_is_an_error_not_a_crash() {
    let cycle = MINIMAL.replace(
        "    X:\n",
        "    Y: {$ref: \"#/components/schemas/Z\"}\n    Z: {$ref: \"#/components/schemas/Y\"}\n    X:\n",
    );
    let msg = message(generate_text(
        "spec.yaml",
        &cycle.replace("a: {type: string}", "a: {$ref: \"#/components/schemas/Y\"}"),
    ));
    assert!(
        msg.contains("a cycle (or a chain of over 32) of schema $refs"),
        "{msg}"
    );
}

/// openapiv3 reads schemas, parameters and responses through untagged enums, which
/// hide where below them a value is wrong; the error still names the value itself.
#[test]
fn a_wrong_value_deep_in_a_schema_or_parameter_is_named_exactly() {
    let cases = [
        (
            MINIMAL.replace("type: object\n", "type: object\n      required: [a, null]\n"),
            "at /components/schemas/X/required/1: invalid type: null, expected a string",
        ),
        (
            MINIMAL.replace(
                "type: object\n",
                "type: object\n      required: [{type: string}, {type: integer}]\n",
            ),
            "at /components/schemas/X/required/0: invalid type: map, expected a string",
        ),
        (
            MINIMAL.replace("a: {type: string}", "a: {type: string, enum: [x, {y: 1}]}"),
            "at /components/schemas/X/properties/a/enum/1: enum value {\"y\":1} is not a string, \
             but the schema's type is string",
        ),
        (
            MINIMAL.replace(
                "      operationId: get_x\n",
                "      operationId: get_x\n      parameters:\n        - {name: q, in: query, schema: text}\n",
            ),
            "at /paths/~1x/get/parameters/0/schema: invalid type: string \"text\", expected an object",
        ),
        (
            MINIMAL.replace(
                "      operationId: get_x\n",
                "      operationId: get_x\n      parameters:\n        - {name: [], in: header, schema: {type: string}}\n",
            ),
            "at /paths/~1x/get/parameters/0/name: invalid type: sequence, expected a string",
        ),
        (
            MINIMAL.replace(
                "      operationId: get_x\n",
                "      operationId: get_x\n      parameters:\n        - [null]\n",
            ),
            "at /paths/~1x/get/parameters/0: invalid type: sequence, expected an object",
        ),
        (
            MINIMAL.replace(
                "              schema: {$ref: \"#/components/schemas/X\"}",
                "              schema: {type: object, properties: {b: {type: string, nullable: maybe}}}",
            ),
            "at /paths/~1x/get/responses/200/content/application~1json/schema/properties/b/nullable: \
             invalid type: string \"maybe\", expected a boolean",
        ),
        (
            MINIMAL.replace(
                "schema: {$ref: \"#/components/schemas/X\"}",
                "schema: {$ref: [], required: true}",
            ),
            "at /paths/~1x/get/responses/200/content/application~1json/schema/required: \
             invalid type: boolean `true`, expected a sequence",
        ),
    ];
    for (spec, expected) in cases {
        assert_refused(&spec, expected);
    }
}

/// A multipart body with an object part and a file part, for the cases below to break.
const MULTIPART: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /files:
    post:
      operationId: upload
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                attributes: {type: object, properties: {name: {type: string}}}
                file: {type: string, format: binary}
            encoding:
              file: {contentType: application/octet-stream}
      responses:
        "201": {description: ok}
components:
  schemas:
    Blob: {type: string, format: binary}
"##;

#[test]
fn the_multipart_base_case_generates_typed_parts() {
    let output = generate_text("spec.yaml", MULTIPART).unwrap();
    let client = &output.files["client.rs"];
    assert!(
        client.contains("pub file: Option<::oas_runtime::FilePart>,"),
        "{client}"
    );
    assert!(
        client.contains(r#"form.json("attributes", value, "application/json")?;"#),
        "{client}"
    );
}

#[test]
fn multipart_encodings_the_generator_cannot_honour_are_named_by_pointer() {
    const ENCODING: &str = "file: {contentType: application/octet-stream}";
    const AT: &str = "at /paths/~1files/post/requestBody/content/multipart~1form-data";
    let cases = [
        (
            "file: {headers: {X-Rate: {schema: {type: string}}}}",
            format!(
                "{AT}/encoding/file/headers/X-Rate: cannot generate code for headers on a multipart part"
            ),
        ),
        (
            "file: {style: form}",
            format!(
                "{AT}/encoding/file/style: cannot generate code for `style` on a multipart part"
            ),
        ),
        (
            "file: {explode: true}",
            format!(
                "{AT}/encoding/file/explode: cannot generate code for `explode` on a multipart part"
            ),
        ),
        (
            "file: {contentType: \"image/png, image/jpeg\"}",
            format!(
                "{AT}/encoding/file/contentType: cannot generate code for contentType \
                 \"image/png, image/jpeg\" for a binary part"
            ),
        ),
        (
            "file: {contentType: \"image/*\"}",
            format!(
                "{AT}/encoding/file/contentType: cannot generate code for contentType \"image/*\""
            ),
        ),
        (
            "attributes: {contentType: application/xml}",
            format!(
                "{AT}/encoding/attributes/contentType: cannot generate code for contentType \
                 \"application/xml\" for a JSON part"
            ),
        ),
        (
            "attributes: {contentType: multipart/mixed}",
            format!(
                "{AT}/encoding/attributes/contentType: cannot generate code for a nested \
                 multipart part (\"multipart/mixed\")"
            ),
        ),
        (
            "nope: {contentType: text/plain}",
            format!("{AT}/encoding/nope: an encoding for \"nope\", which is not a property"),
        ),
    ];
    for (encoding, expected) in cases {
        assert_refused(&MULTIPART.replace(ENCODING, encoding), &expected);
    }
}

#[test]
fn multipart_schemas_the_generator_cannot_express_are_named_by_pointer() {
    const AT: &str = "at /paths/~1files/post/requestBody/content/multipart~1form-data";
    const FILE: &str = "file: {type: string, format: binary}";
    let object = "            schema:\n              type: object\n";
    let cases = [
        (
            MULTIPART.replace(
                FILE,
                "file: {type: array, items: {$ref: \"#/components/schemas/Blob\"}}",
            ),
            format!("{AT}/schema/properties/file: cannot generate code for a list of files"),
        ),
        (
            MULTIPART.replace(object, "            schema:\n              type: string\n"),
            format!(
                "{AT}/schema: cannot generate code for a multipart/form-data body whose schema \
                 is not an object with properties"
            ),
        ),
        (
            MULTIPART.replace(
                object,
                "            schema:\n              type: object\n              additionalProperties: true\n",
            ),
            format!("{AT}/schema: cannot generate code for `additionalProperties` in a multipart/form-data schema"),
        ),
        (
            MULTIPART.replace("multipart/form-data:", "multipart/mixed:"),
            "at /paths/~1files/post/requestBody/content/multipart~1mixed: cannot generate code \
             for a multipart/mixed body"
                .to_owned(),
        ),
        (
            MULTIPART.replace(
                "            schema:\n              type: object\n              properties:\n                attributes: {type: object, properties: {name: {type: string}}}\n                file: {type: string, format: binary}\n",
                "            schema: {$ref: \"#/components/schemas/Blob\"}\n",
            ),
            "at /components/schemas/Blob: cannot generate code for a multipart/form-data body \
             whose schema is not an object"
                .to_owned(),
        ),
    ];
    for (spec, expected) in cases {
        assert_refused(&spec, &expected);
    }
}

/// A form body of a component, for the cases below to break.
const FORM: &str = r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /token:
    post:
      operationId: token
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {$ref: "#/components/schemas/Token"}
      responses:
        "200": {description: ok}
components:
  schemas:
    Token:
      type: object
      properties:
        grant_type: {type: string, enum: [client_credentials]}
        scope: {type: string}
"##;

#[test]
fn form_bodies_and_encodings_the_generator_cannot_honour_are_named_by_pointer() {
    generate_text("spec.yaml", FORM).unwrap();
    let with_encoding = |encoding: &str| {
        FORM.replace(
            "            schema: {$ref: \"#/components/schemas/Token\"}\n",
            &format!("            schema: {{$ref: \"#/components/schemas/Token\"}}\n            encoding:\n              {encoding}\n"),
        )
    };
    const AT: &str =
        "at /paths/~1token/post/requestBody/content/application~1x-www-form-urlencoded";
    let cases = [
        (
            with_encoding("scope: {contentType: application/xml}"),
            format!(
                "{AT}/encoding/scope/contentType: cannot generate code for contentType \"application/xml\""
            ),
        ),
        (
            with_encoding("nope: {style: deepObject}"),
            format!(
                "breaks OpenAPI {AT}/encoding/nope: an encoding for \"nope\", which is not a property"
            ),
        ),
        (
            FORM.replace(
                "            schema: {$ref: \"#/components/schemas/Token\"}\n",
                "            schema: {type: array, items: {type: string}}\n",
            ),
            format!(
                "{AT}/schema: cannot generate code for a application/x-www-form-urlencoded body whose schema is not an object"
            ),
        ),
    ];
    for (spec, expected) in cases {
        assert_refused(&spec, &expected);
    }
}

#[test]
fn a_spec_that_breaks_openapi_says_so_apart_from_what_cannot_be_generated() {
    let dangling = MINIMAL.replace(
        "a: {type: string}",
        "a: {$ref: \"#/components/schemas/Nope\"}",
    );
    let error = generate_text("spec.yaml", &dangling).err().unwrap();
    assert_eq!(error.kind(), oas_codegen::ErrorKind::InvalidSpec);
    assert_eq!(error.pointer(), Some("/components/schemas/X/properties/a"));
    assert!(
        error.to_string().contains("breaks OpenAPI at /components"),
        "{error}"
    );

    let negated = MINIMAL.replace("a: {type: string}", "a: {not: {type: string}}");
    let error = generate_text("spec.yaml", &negated).err().unwrap();
    assert_eq!(error.kind(), oas_codegen::ErrorKind::Construct);
    assert!(!error.to_string().contains("breaks OpenAPI"), "{error}");
}

/// Generates `spec` with `lenient = true`.
fn generate_lenient(spec: &str) -> Result<oas_codegen::Output, Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    let mut config = Config::select_all();
    config.lenient = true;
    generate_path(&path, config)
}

#[test]
fn lenient_mode_reads_defects_that_have_a_faithful_reading_and_warns_of_each() {
    let spec = MINIMAL.replace(
        "a: {type: string}",
        "a: {$ref: \"#/components/schemas/Nope\"}\n        b: {type: string, enum: [x, 1]}\n        \
         c: {allOf: [{$ref: \"#/components/schemas/Gone\"}, {properties: {d: {type: string}}}]}",
    );
    assert!(
        generate_text("spec.yaml", &spec).is_err(),
        "strict mode refuses"
    );
    let output = generate_lenient(&spec).unwrap();
    let types = &output.files["types.rs"];
    assert!(
        types.contains("pub a: Option<::serde_json::Value>"),
        "{types}"
    );
    assert!(
        types.contains("pub b: Option<::serde_json::Value>"),
        "{types}"
    );
    assert!(types.contains("pub d: Option<String>"), "{types}");
    let warnings: Vec<String> = output.warnings.iter().map(|w| w.to_string()).collect();
    let expected = [
        "at /components/schemas/X/properties/a: dangling $ref \"#/components/schemas/Nope\"; read as any JSON value",
        "at /components/schemas/X/properties/b/enum/1: enum value 1 is not a string",
        "at /components/schemas/X/properties/c/allOf/0: dangling $ref \"#/components/schemas/Gone\"; read as a part that adds no properties",
    ];
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    for (warning, expected) in warnings.iter().zip(expected) {
        assert!(warning.contains("spec.yaml: warning: "), "{warning}");
        assert!(warning.contains(expected), "{warning}\nexpected {expected}");
    }
    // What has no faithful reading stays refused.
    let negated = MINIMAL.replace("a: {type: string}", "a: {not: {type: string}}");
    assert!(generate_lenient(&negated).is_err());
}

#[test]
fn a_required_name_that_no_property_declares_is_a_warning_in_any_mode() {
    let spec = MINIMAL.replace(
        "type: object\n",
        "type: object\n      required: [a, grant_type]\n",
    );
    let output = generate_text("spec.yaml", &spec).unwrap();
    let warnings: Vec<String> = output.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("at /components/schemas/X/required/1: `required` names \"grant_type\", which no property declares"),
        "{warnings:?}"
    );
    assert!(output.files["types.rs"].contains("pub a: String"));
}

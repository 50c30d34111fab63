//! Snapshots of the code emitted for small fixture specs, one construct each.
//! (Every fixture's output is also compiled: see `compile.rs`.)

mod common;

use common::{concat, fixtures, generate_fixture};

macro_rules! snapshot_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(concat!("tests/fixtures/", stringify!($name), ".yaml"));
                let output = generate_fixture(&path);
                insta::assert_snapshot!(stringify!($name), concat(&output));
            }
        )*

        #[test]
        fn every_fixture_has_a_snapshot_test() {
            let listed = [$(stringify!($name)),*];
            for (name, _) in fixtures() {
                assert!(listed.contains(&name.as_str()), "fixture {name}.yaml has no snapshot test");
            }
        }
    };
}

snapshot_tests!(
    all_of_chain,
    form,
    free_form,
    headers_binary,
    keyword_names,
    multipart,
    nullable,
    open_enum,
    outcomes,
    parameter_styles,
    security,
    servers,
    shared_and_one_of,
    status_ranges,
    unions,
    unknown_fields,
);

#[test]
fn generating_twice_gives_the_same_bytes() {
    for (name, path) in fixtures() {
        assert_eq!(generate_fixture(&path), generate_fixture(&path), "{name}");
    }
}

//! Box's own, unchanged `openapi.json` (from `../shared`, when it is there) gives the
//! same Rust API (and API summary) as `spec/`, and the generator accepts the whole of it.

mod common;

use common::{box_spec, strip_comments, workspace_root};
use oas_codegen::report::Summary;
use oas_codegen::{Config, Input, generate};

#[test]
fn box_spec_gives_the_same_api_as_spec_folder() {
    let Some(spec) = box_spec() else {
        println!("skipped: ../shared/box-openapi/openapi.json is not there");
        return;
    };
    let root = workspace_root();
    let config = Config::load(&root.join("spec/codegen.toml")).unwrap();
    let output = generate(&Input {
        spec,
        config,
        spec_label: "openapi.json".into(),
    })
    .unwrap();
    let committed_dir = root.join("generated/src/generated");
    let mut committed_files: Vec<String> = std::fs::read_dir(&committed_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    committed_files.sort();
    assert_eq!(
        committed_files,
        output.files.keys().cloned().collect::<Vec<_>>()
    );
    for (name, text) in &output.files {
        let committed = std::fs::read_to_string(committed_dir.join(name)).unwrap();
        let (ours, boxs) = (strip_comments(&committed), strip_comments(text));
        if ours != boxs {
            let diff = similar_lines(&ours, &boxs);
            panic!("{name}: Box's spec gives different code than spec/ (comments aside):\n{diff}");
        }
    }
    assert_eq!(output.api.operations.len(), 15);

    // The API summary too, JSON pointers included: spec/ mirrors Box's structure.
    let committed = std::fs::read_to_string(root.join("generated/api-summary.json")).unwrap();
    let committed = Summary::from_json(&committed).unwrap();
    let mut summary = Summary::of(&output.api);
    summary.api = committed.api.clone();
    assert!(
        summary == committed,
        "Box's spec gives another API summary than spec/:\n{}",
        oas_codegen::report::compare(&committed, &summary).text(usize::MAX)
    );
}

/// `generated/src/lib.rs` re-exports the generated items by glob and some of the
/// runtime's by name; a name taken by both would silently be the runtime's (an explicit
/// import shadows a glob one), so the config must rename such a type (`[types]`).
#[test]
fn no_generated_item_is_shadowed_by_a_runtime_reexport() {
    let root = workspace_root();
    let read = |path: &str| {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        syn::parse_file(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let mut generated = std::collections::BTreeSet::new();
    for path in [
        "generated/src/generated/types.rs",
        "generated/src/generated/client.rs",
    ] {
        for item in read(path).items {
            let ident = match item {
                syn::Item::Struct(i) => i.ident,
                syn::Item::Enum(i) => i.ident,
                syn::Item::Type(i) => i.ident,
                syn::Item::Mod(i) => i.ident,
                syn::Item::Fn(i) => i.sig.ident,
                syn::Item::Const(i) => i.ident,
                syn::Item::Static(i) => i.ident,
                syn::Item::Trait(i) => i.ident,
                _ => continue,
            };
            generated.insert(ident.to_string());
        }
    }
    assert!(generated.contains("AccessTokenResponse"), "{generated:?}");
    let mut reexported = Vec::new();
    for item in read("generated/src/lib.rs").items {
        if let syn::Item::Use(item) = item
            && matches!(item.vis, syn::Visibility::Public(_))
        {
            named_imports(&item.tree, &mut reexported);
        }
    }
    assert!(reexported.iter().any(|name| name == "AccessToken"));
    let shadowed: Vec<_> = reexported
        .iter()
        .filter(|name| generated.contains(*name))
        .collect();
    assert!(
        shadowed.is_empty(),
        "generated items hidden behind lib.rs's named re-exports: {shadowed:?} \
         (rename them in spec/codegen.toml's [types])"
    );
}

/// The names a `use` tree brings in by name (globs left out).
fn named_imports(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(path) => named_imports(&path.tree, out),
        syn::UseTree::Name(name) => out.push(name.ident.to_string()),
        syn::UseTree::Rename(rename) => out.push(rename.rename.to_string()),
        syn::UseTree::Group(group) => group.items.iter().for_each(|t| named_imports(t, out)),
        syn::UseTree::Glob(_) => {}
    }
}

/// The lines that differ, for a readable failure.
fn similar_lines(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = first.saturating_sub(3);
    format!(
        "from spec/ (line {first}):\n{}\nfrom openapi.json:\n{}",
        a[from..(first + 5).min(a.len())].join("\n"),
        b[from..(first + 5).min(b.len())].join("\n")
    )
}

#[test]
fn whole_box_spec_generates_deterministically() {
    let Some(spec) = box_spec() else {
        println!("skipped: ../shared/box-openapi/openapi.json is not there");
        return;
    };
    let input = Input {
        spec,
        config: Config::select_all(),
        spec_label: "openapi.json".into(),
    };
    let first = generate(&input).unwrap();
    let second = generate(&input).unwrap();
    assert_eq!(first, second);
    let paths = first
        .api
        .operations
        .iter()
        .map(|op| op.path.as_str())
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        paths.len(),
        186,
        "every path of the official spec is generated"
    );
    assert!(
        first.api.types.len() >= 305,
        "{} types",
        first.api.types.len()
    );
}

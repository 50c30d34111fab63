//! The generation config (`spec/codegen.toml`): what to generate and what to call it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// The parsed generation config.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The spec to read, relative to the config file (the xtask's `--spec` overrides it).
    #[serde(default)]
    pub spec: Option<PathBuf>,
    /// Overlays (OAI Overlay 1.0) applied, in order, to whatever spec is read.
    #[serde(default)]
    pub overlays: Vec<PathBuf>,
    /// Which operations to generate.
    #[serde(default)]
    pub select: Select,
    /// Rust method names, by `operationId`.
    #[serde(default)]
    pub operations: BTreeMap<String, String>,
    /// Rust type names of component schemas, by schema name, instead of the schema
    /// name in UpperCamelCase: for a name that would clash with, or read as, another
    /// type the crate exports. Entries for schemas the spec does not have are ignored,
    /// like `operations`, so one config serves several versions of a spec.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// Server names (as users pass them to the runtime), by URL template.
    #[serde(default)]
    pub servers: BTreeMap<String, String>,
    /// Host patterns of the API, besides the hosts of its server templates, that
    /// a URL given by a server (such as a session's endpoints) may point at: the
    /// generated client sends its token there. `host.example.com`, or one `*` in
    /// the first label (`upload-*.example.com`).
    #[serde(default)]
    pub trusted_hosts: Vec<String>,
    /// Read defects of the spec that have a faithful reading (a dangling `$ref` as any
    /// JSON value, an enum value of another type as a JSON value) as warnings instead
    /// of refusing the spec.
    #[serde(default)]
    pub lenient: bool,
    /// Give every struct read from responses a flattened map of the members the
    /// spec does not list (`unknown_fields`), so fields the API adds later are kept
    /// rather than dropped on decode.
    #[serde(default)]
    pub keep_unknown_fields: bool,
    /// Where the config was read from; overlay and spec paths are relative to its folder.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The operation filter: an operation is generated when any rule matches it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Select {
    /// Every operation of the spec.
    #[serde(default)]
    pub all: bool,
    /// Operations carrying one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Operations with these `operationId`s.
    #[serde(default)]
    pub operations: Vec<String>,
}

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| Error::Config {
            path: path.to_owned(),
            message,
        })?;
        config.dir = path.parent().map(Path::to_owned).unwrap_or_default();
        Ok(config)
    }

    /// Parses config text; the error is TOML's message, with line and column.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        for pattern in &config.trusted_hosts {
            check_host_pattern(pattern)
                .map_err(|reason| format!("trusted_hosts: the pattern {pattern:?} {reason}"))?;
        }
        Ok(config)
    }

    /// A config that selects every operation and names nothing.
    pub fn select_all() -> Config {
        Config {
            select: Select {
                all: true,
                ..Select::default()
            },
            ..Config::default()
        }
    }

    /// Whether an operation with this id and these tags is selected.
    pub fn selects(&self, operation_id: &str, tags: &[String]) -> bool {
        self.select.all
            || self.select.operations.iter().any(|id| id == operation_id)
            || tags.iter().any(|tag| self.select.tags.contains(tag))
    }

    /// Paths of the overlays, resolved against the config's folder.
    pub fn overlay_paths(&self) -> Vec<PathBuf> {
        self.overlays.iter().map(|p| self.dir.join(p)).collect()
    }
}

/// Checks a host pattern of `trusted_hosts` (the runtime parses it again, with
/// the same rules, when it follows a URL); the error completes "the pattern … ".
fn check_host_pattern(pattern: &str) -> Result<(), String> {
    let mut labels = pattern.split('.');
    let first = labels.next().unwrap_or_default();
    let rest: Vec<&str> = labels.collect();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !rest.iter().all(|label| label_ok(label)) || !label_ok(&first.replacen('*', "x", 1)) {
        return Err(
            "is not a host name: lowercase ASCII labels of letters, digits and '-', \
             with at most one '*' in the first label"
                .to_owned(),
        );
    }
    if first.contains('*') && rest.len() < 2 {
        return Err("needs at least two labels after the wildcard label".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_host_patterns_are_checked() {
        let ok = Config::parse(
            r#"trusted_hosts = ["upload.box.com", "upload-*.app.box.com", "*.example.com"]"#,
        );
        assert_eq!(ok.unwrap().trusted_hosts.len(), 3);
        for (bad, reason) in [
            ("*.com", "two labels"),
            ("https://x.example.com", "not a host name"),
            ("a.*.example.com", "not a host name"),
            ("**.example.com", "not a host name"),
            ("Upper.example.com", "not a host name"),
            ("", "not a host name"),
        ] {
            let error = Config::parse(&format!("trusted_hosts = [{bad:?}]")).unwrap_err();
            assert!(
                error.contains(&format!("{bad:?}")) && error.contains(reason),
                "{error}"
            );
        }
    }
}

//! Selection: the operations the config asks for, and the component schemas they reach.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Parameter, PathItem, ReferenceOr};
use serde_json::Value;

use super::{Lowerer, SCHEMA_PREFIX};
use crate::config::Config;
use crate::error::Error;
use crate::load::{LoadedSpec, escape_pointer};
use crate::naming::snake;

/// An operation the config selected, with what lowering needs from its path item.
pub(super) struct SelectedOperation<'a> {
    pub(super) id: String,
    pub(super) method: String,
    pub(super) path: String,
    pub(super) pointer: String,
    pub(super) operation: &'a openapiv3::Operation,
    pub(super) path_params: &'a [ReferenceOr<Parameter>],
    pub(super) path_servers: &'a [openapiv3::Server],
}

impl<'a> Lowerer<'a> {
    /// The operations the config selects, in spec order, after checking that every
    /// operation and tag the config names exists and is selected.
    pub(super) fn select_operations(&self) -> Result<Vec<SelectedOperation<'a>>, Error> {
        let mut selected = Vec::new();
        let mut seen_ids = BTreeSet::new();
        let openapi: &'a OpenAPI = self.openapi;
        for (path, item) in &openapi.paths.paths {
            let item_pointer = format!("/paths/{}", escape_pointer(path));
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { .. } => {
                    return Err(self.construct(&item_pointer, "a path item given by $ref"));
                }
            };
            for (method, operation) in operations_of(item) {
                let Some(operation) = operation else { continue };
                let pointer = format!("{item_pointer}/{method}");
                let id = operation
                    .operation_id
                    .clone()
                    .unwrap_or_else(|| format!("{method}_{}", snake(path)));
                if !seen_ids.insert(id.clone()) {
                    return Err(self.invalid(&pointer, format!("operationId {id:?} is used twice")));
                }
                if self.config.selects(&id, &operation.tags) {
                    selected.push(SelectedOperation {
                        id,
                        method: method.to_owned(),
                        path: path.clone(),
                        pointer,
                        operation,
                        path_params: &item.parameters,
                        path_servers: &item.servers,
                    });
                }
            }
        }
        self.check_selection(&selected, &seen_ids)?;
        Ok(selected)
    }

    /// Every operation and tag the config names must exist, every named operation must
    /// be selected, and something must be.
    fn check_selection(
        &self,
        selected: &[SelectedOperation<'a>],
        seen_ids: &BTreeSet<String>,
    ) -> Result<(), Error> {
        let config_path = self.config.dir.join("codegen.toml");
        for id in self
            .config
            .select
            .operations
            .iter()
            .chain(self.config.operations.keys())
        {
            if !seen_ids.contains(id) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "names operation {id:?}, which {} does not have",
                        self.path.display()
                    ),
                });
            }
            if !selected.iter().any(|op| &op.id == id) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "names operation {id:?} but its selection does not include it"
                    ),
                });
            }
        }
        for tag in &self.config.select.tags {
            if !self.openapi.paths.paths.values().any(|item| match item {
                ReferenceOr::Item(item) => item.iter().any(|(_, op)| op.tags.contains(tag)),
                ReferenceOr::Reference { .. } => false,
            }) {
                return Err(Error::Config {
                    path: config_path,
                    message: format!(
                        "selects tag {tag:?}, which no operation of {} has",
                        self.path.display()
                    ),
                });
            }
        }
        // `all` over a spec without operations (one that only shares schemas) is its
        // types; any other selection that matches nothing is a mistake.
        if selected.is_empty() && !self.config.select.all {
            return Err(Error::Config {
                path: config_path,
                message: "selects no operation".into(),
            });
        }
        Ok(())
    }
}

/// A path item's operations by method, in the order they are read.
fn operations_of(item: &PathItem) -> [(&'static str, &Option<openapiv3::Operation>); 8] {
    [
        ("get", &item.get),
        ("put", &item.put),
        ("post", &item.post),
        ("delete", &item.delete),
        ("options", &item.options),
        ("head", &item.head),
        ("patch", &item.patch),
        ("trace", &item.trace),
    ]
}

/// The component schemas to define: all of them when the config selects everything,
/// else those the selected operations reach.
pub(super) fn component_closure(
    spec: &LoadedSpec,
    config: &Config,
    selected: &[SelectedOperation<'_>],
) -> BTreeSet<String> {
    if config.select.all {
        spec.openapi
            .components
            .as_ref()
            .map(|c| c.schemas.keys().cloned().collect())
            .unwrap_or_default()
    } else {
        // A `$ref` to a schema that does not exist is reported where it is used.
        let exists = |name: &String| {
            spec.openapi
                .components
                .as_ref()
                .is_some_and(|c| c.schemas.contains_key(name))
        };
        schema_closure(&spec.json, selected)
            .into_iter()
            .filter(exists)
            .collect()
    }
}

/// The component schemas reachable from the selected operations.
///
/// It walks the JSON rather than the `openapiv3` values so that a `$ref` anywhere
/// (through parameters, responses, other components) is followed.
fn schema_closure(json: &Value, selected: &[SelectedOperation<'_>]) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut pending: Vec<&Value> = Vec::new();
    for op in selected {
        let item = &json["paths"][&op.path];
        pending.push(&item[&op.method]);
        pending.push(&item["parameters"]);
    }
    let mut seen_refs = BTreeSet::new();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && seen_refs.insert(reference.clone())
                {
                    if let Some(name) = reference.strip_prefix(SCHEMA_PREFIX) {
                        refs.insert(name.replace("~1", "/").replace("~0", "~"));
                    }
                    if let Some(target) = reference.strip_prefix('#').and_then(|p| json.pointer(p))
                    {
                        pending.push(target);
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{config, spec};
    use super::*;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /files/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {$ref: "#/components/schemas/Id"}}
    get:
      operationId: get_file
      tags: [Files]
      responses:
        "200": {$ref: "#/components/responses/File"}
    delete:
      tags: [Files, Trash]
      responses:
        "204": {description: gone}
  /users:
    get:
      operationId: list_users
      tags: [Users]
      responses:
        "200":
          description: users
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/User"}}
components:
  responses:
    File:
      description: a file
      content:
        application/json:
          schema: {$ref: "#/components/schemas/File"}
  schemas:
    Id: {type: string}
    File:
      type: object
      properties:
        owner: {$ref: "#/components/schemas/User"}
        path: {$ref: "#/components/schemas/Path~1Part"}
    User: {type: object, properties: {name: {type: string}}}
    Path/Part: {type: string}
    Unused: {type: object, properties: {x: {type: string}}}
"##;

    /// The ids of the operations `toml` selects from `yaml`, or the error's text.
    fn select(yaml: &str, toml: &str) -> Result<Vec<String>, String> {
        let (spec, config) = (spec(yaml), config(toml));
        let lowerer = Lowerer::new(&spec, &config);
        match lowerer.select_operations() {
            Ok(selected) => Ok(selected.into_iter().map(|op| op.id).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The component closure of what `toml` selects from [`SPEC`].
    fn closure(toml: &str) -> Vec<String> {
        let (spec, config) = (spec(SPEC), config(toml));
        let selected = Lowerer::new(&spec, &config).select_operations().unwrap();
        component_closure(&spec, &config, &selected)
            .into_iter()
            .collect()
    }

    #[test]
    fn tags_and_ids_select_in_spec_order_and_ids_default_from_method_and_path() {
        let tags = "[select]\ntags = [\"Trash\", \"Users\"]";
        assert_eq!(
            select(SPEC, tags).unwrap(),
            ["delete_files_id", "list_users"]
        );
        let ids = "[select]\noperations = [\"list_users\", \"get_file\"]";
        assert_eq!(select(SPEC, ids).unwrap(), ["get_file", "list_users"]);
        let all = "[select]\nall = true";
        assert_eq!(
            select(SPEC, all).unwrap(),
            ["get_file", "delete_files_id", "list_users"]
        );
    }

    #[test]
    fn the_config_may_only_name_what_the_spec_has_and_selects() {
        let unknown = select(SPEC, "[select]\noperations = [\"nope\"]").unwrap_err();
        assert!(
            unknown.contains("names operation \"nope\", which"),
            "{unknown}"
        );

        let unselected = "[select]\ntags = [\"Users\"]\n[operations]\nget_file = \"fetch\"";
        let unselected = select(SPEC, unselected).unwrap_err();
        assert!(
            unselected.contains("\"get_file\" but its selection does not include it"),
            "{unselected}"
        );

        let tag = select(SPEC, "[select]\ntags = [\"Nope\"]").unwrap_err();
        assert!(
            tag.contains("selects tag \"Nope\", which no operation"),
            "{tag}"
        );

        let nothing = select(SPEC, "").unwrap_err();
        assert!(nothing.contains("selects no operation"), "{nothing}");
    }

    #[test]
    fn an_operation_id_used_twice_is_invalid() {
        let twice = SPEC.replace("operationId: list_users", "operationId: get_file");
        let error = select(&twice, "[select]\nall = true").unwrap_err();
        assert!(error.contains("/paths/~1users/get"), "{error}");
        assert!(
            error.contains("operationId \"get_file\" is used twice"),
            "{error}"
        );
    }

    #[test]
    fn the_closure_follows_refs_through_parameters_responses_and_components() {
        assert_eq!(
            closure("[select]\noperations = [\"get_file\"]"),
            ["File", "Id", "Path/Part", "User"]
        );
        assert_eq!(closure("[select]\ntags = [\"Users\"]"), ["User"]);
        // The path item's parameters count for each of its operations.
        assert_eq!(closure("[select]\ntags = [\"Trash\"]"), ["Id"]);
    }

    #[test]
    fn selecting_all_defines_every_component() {
        assert_eq!(
            closure("[select]\nall = true"),
            ["File", "Id", "Path/Part", "Unused", "User"]
        );
    }
}

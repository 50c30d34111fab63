//! OpenAPI's parameter styles: how a value becomes `name=value` pairs of a query or a
//! form body (`style` and `explode`, OpenAPI 3.0 § "Style Values").
//!
//! A value is first serialized with serde to JSON, then written by its style. Where
//! OpenAPI defines nothing (a list inside a `deepObject`, an object inside a list),
//! the convention the common readers share (qs, Rack, PHP) is used: `a[b][]=1` for a
//! list, `a[b][0][c]=1` for objects in a list; inside other styles a nested value is
//! its JSON text. Percent-encoding is left to `form_urlencoded` (the `url` crate's).

use serde_json::Value;

use crate::error::InvalidRequest;

/// How a parameter, or a field of a form body, is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Style {
    /// `style: form`: a list as `a=1&a=2` (exploded) or `a=1,2`; an object as
    /// `x=1&y=2` (exploded) or `a=x,1,y,2`.
    Form,
    /// `style: spaceDelimited`: a list as `a=1 2` (unless exploded).
    SpaceDelimited,
    /// `style: pipeDelimited`: a list as `a=1|2` (unless exploded).
    PipeDelimited,
    /// `style: deepObject`: an object as `a[x]=1&a[y]=2`.
    DeepObject,
    /// The value's JSON text (`content: application/json`, or an object in a query
    /// where an API reads JSON).
    Json,
}

/// The pairs `value` is written as, under `name`, appended to `out`. Absent members
/// (`null`) are left out.
pub fn style_pairs(
    name: &str,
    value: &Value,
    style: Style,
    explode: bool,
    out: &mut Vec<(String, String)>,
) {
    let delimiter = match style {
        Style::SpaceDelimited => " ",
        Style::PipeDelimited => "|",
        _ => ",",
    };
    match (style, value) {
        (_, Value::Null) => {}
        (Style::Json, value) => out.push((name.to_owned(), value.to_string())),
        (Style::DeepObject, Value::Object(_)) => deep(name, value, out),
        (_, Value::Array(items)) if explode => {
            out.extend(items.iter().map(|item| (name.to_owned(), text(item))));
        }
        (_, Value::Array(items)) => {
            let joined: Vec<String> = items.iter().map(text).collect();
            out.push((name.to_owned(), joined.join(delimiter)));
        }
        (_, Value::Object(members)) if explode => {
            for (key, member) in members.iter().filter(|(_, m)| !m.is_null()) {
                out.push((key.clone(), text(member)));
            }
        }
        (_, Value::Object(members)) => {
            let joined: Vec<String> = members
                .iter()
                .filter(|(_, m)| !m.is_null())
                .flat_map(|(key, member)| [key.clone(), text(member)])
                .collect();
            out.push((name.to_owned(), joined.join(delimiter)));
        }
        (_, scalar) => out.push((name.to_owned(), text(scalar))),
    }
}

/// The compact JSON text of the parameter `name` (one described by `content` in a
/// JSON media type), or an error that names it.
pub fn json_text<T: serde::Serialize + ?Sized>(
    name: &str,
    value: &T,
) -> Result<String, InvalidRequest> {
    serde_json::to_string(value).map_err(|e| {
        InvalidRequest::new(format!(
            "cannot serialize the parameter {name} as JSON: {e}"
        ))
    })
}

/// A `deepObject` value: objects by `[key]`, lists by `[]` (of scalars) or `[index]`.
fn deep(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Object(members) => {
            for (key, member) in members {
                deep(&format!("{name}[{key}]"), member, out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let key = format!("{name}[]");
            out.extend(items.iter().map(|item| (key.clone(), text(item))));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                deep(&format!("{name}[{index}]"), item, out);
            }
        }
        scalar => out.push((name.to_owned(), text(scalar))),
    }
}

/// The text of a scalar (a string as it is, a number or boolean as JSON writes it);
/// of a list or object, its JSON text; of `null`, nothing.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(name: &str, value: Value, style: Style, explode: bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        style_pairs(name, &value, style, explode, &mut out);
        out
    }

    fn expected(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn openapi_style_examples() {
        // The examples of OpenAPI 3.0's style table.
        let list = json!(["blue", "black", "brown"]);
        let object = json!({"R": 100, "G": 200, "B": 150});
        assert_eq!(
            pairs("color", list.clone(), Style::Form, false),
            expected(&[("color", "blue,black,brown")])
        );
        assert_eq!(
            pairs("color", list.clone(), Style::Form, true),
            expected(&[("color", "blue"), ("color", "black"), ("color", "brown")])
        );
        assert_eq!(
            pairs("color", object.clone(), Style::Form, false),
            expected(&[("color", "R,100,G,200,B,150")])
        );
        assert_eq!(
            pairs("color", object.clone(), Style::Form, true),
            expected(&[("R", "100"), ("G", "200"), ("B", "150")])
        );
        assert_eq!(
            pairs("color", list.clone(), Style::SpaceDelimited, false),
            expected(&[("color", "blue black brown")])
        );
        assert_eq!(
            pairs("color", list, Style::PipeDelimited, false),
            expected(&[("color", "blue|black|brown")])
        );
        assert_eq!(
            pairs("color", object, Style::DeepObject, true),
            expected(&[
                ("color[R]", "100"),
                ("color[G]", "200"),
                ("color[B]", "150")
            ])
        );
    }

    #[test]
    fn deep_objects_nest_lists_and_objects_and_leave_out_nulls() {
        let value = json!({
            "filter": {"name": "a b", "ids": [1, 2], "gone": null},
            "sort": [{"by": "date"}],
            "flag": true
        });
        assert_eq!(
            pairs("q", value, Style::DeepObject, true),
            expected(&[
                ("q[filter][name]", "a b"),
                ("q[filter][ids][]", "1"),
                ("q[filter][ids][]", "2"),
                ("q[sort][0][by]", "date"),
                ("q[flag]", "true"),
            ])
        );
    }

    #[test]
    fn scalars_nulls_and_json_text() {
        assert_eq!(
            pairs("n", json!(1.5), Style::Form, true),
            expected(&[("n", "1.5")])
        );
        assert!(pairs("n", Value::Null, Style::DeepObject, true).is_empty());
        assert_eq!(
            pairs("f", json!({"a": [1]}), Style::Json, false),
            expected(&[("f", r#"{"a":[1]}"#)])
        );
        // Inside a list, an object is its JSON text.
        assert_eq!(
            pairs("l", json!([{"a": 1}]), Style::Form, true),
            expected(&[("l", r#"{"a":1}"#)])
        );
    }
}

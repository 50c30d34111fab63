//! Request bodies: JSON, forms (`application/x-www-form-urlencoded`), multipart
//! (`multipart/form-data`, one typed part per property) and bytes for the rest.

use indexmap::IndexMap;
use openapiv3::{
    Encoding, MediaType, QueryStyle, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::names::{body_ctx, member_ctx};
use super::operations::{is_json_media, pick_media_type};
use super::{Lowerer, SchemaRef};
use crate::error::Error;
use crate::ir::*;
use crate::load::escape_pointer;
use crate::naming::{Namespace, snake};

/// The media type of HTML forms.
const FORM: &str = "application/x-www-form-urlencoded";
/// The media type of multipart forms, the only multipart type with named parts.
const MULTIPART_FORM: &str = "multipart/form-data";
/// The content type of a binary part the spec says nothing more of.
const OCTET_STREAM: &str = "application/octet-stream";

/// The properties, required names and `additionalProperties` of an object schema.
type ObjectShape<'a> = (
    &'a IndexMap<String, ReferenceOr<Box<Schema>>>,
    &'a [String],
    bool,
);

impl<'a> Lowerer<'a> {
    /// The request body: JSON of its schema's type when it has a JSON media type, a
    /// form or multipart body of typed fields, else bytes. `names` holds the Rust
    /// names the operation's request struct already uses (its parameters).
    pub(super) fn lower_request_body(
        &mut self,
        body: &'a ReferenceOr<openapiv3::RequestBody>,
        camel_name: &str,
        pointer: &str,
        names: &mut Namespace,
    ) -> Result<RequestBody, Error> {
        let body = self.resolve_component(body, "requestBodies", |c| &c.request_bodies, pointer)?;
        let Some((media_type, content)) = pick_media_type(&body.content) else {
            return Err(self.invalid(
                &format!("{pointer}/content"),
                "a request body with no media type",
            ));
        };
        let content_pointer = format!("{pointer}/content/{}", escape_pointer(media_type));
        let essence = essence(media_type);
        let kind = if is_json_media(media_type) {
            let ty = match &content.schema {
                Some(schema) => {
                    self.type_of(
                        schema.into(),
                        &body_ctx(camel_name),
                        &format!("{content_pointer}/schema"),
                    )?
                    .ty
                }
                None => TypeRef::Json,
            };
            BodyKind::Json(ty)
        } else if essence == FORM {
            self.lower_form(content, camel_name, &content_pointer)?
        } else if essence == MULTIPART_FORM {
            self.lower_multipart(content, camel_name, &content_pointer, names)?
        } else if essence.starts_with("multipart/") {
            return Err(self.construct(
                &content_pointer,
                format!(
                    "a {essence} body (of multipart types, only {MULTIPART_FORM} has named parts)"
                ),
            ));
        } else {
            BodyKind::Bytes
        };
        Ok(RequestBody {
            media_type: media_type.clone(),
            kind,
            required: body.required,
            docs: body.description.clone(),
        })
    }

    /// A form body: the schema's type (a struct or a map). A body of text fields is
    /// written by serde_urlencoded in declared order; one with a list or an object
    /// field, or an `encoding` that names a style, field by field in its style
    /// (`form` and exploded unless the encoding says otherwise).
    fn lower_form(
        &mut self,
        content: &'a MediaType,
        camel_name: &str,
        content_pointer: &str,
    ) -> Result<BodyKind, Error> {
        let Some(schema) = &content.schema else {
            return Err(self.construct(content_pointer, format!("a {FORM} body without a schema")));
        };
        let schema_pointer = format!("{content_pointer}/schema");
        let ty = self
            .type_of(schema.into(), &body_ctx(camel_name), &schema_pointer)?
            .ty;
        let (declared_at, _) = self.declaration(schema.into(), &schema_pointer)?;
        let mut fields = Vec::new();
        let mut all_text = true;
        match self.resolve_alias(&ty) {
            TypeRef::Named(name) => match self.types.get(&name).map(|t| &t.kind) {
                Some(TypeKind::Struct {
                    fields: struct_fields,
                    additional,
                    ..
                }) => {
                    for field in struct_fields {
                        all_text &= self.is_text(&field.ty);
                        fields.push(field.wire_name.clone());
                    }
                    all_text &= additional.as_ref().is_none_or(|value| self.is_text(value));
                }
                _ => return Err(self.not_an_object(&declared_at, FORM)),
            },
            TypeRef::Map(value) => all_text = self.is_text(&value),
            _ => return Err(self.not_an_object(&declared_at, FORM)),
        }
        let mut styles = Vec::new();
        for (name, encoding) in &content.encoding {
            let pointer = format!("{content_pointer}/encoding/{}", escape_pointer(name));
            if !fields.is_empty() && !fields.contains(name) {
                return Err(self.invalid(
                    &pointer,
                    format!(
                        "an encoding for {name:?}, which is not a property of the body's schema"
                    ),
                ));
            }
            if let Some(style) = self.field_style(name, encoding, &pointer)? {
                styles.push(style);
            }
        }
        let styled = (!all_text || !styles.is_empty()).then_some(styles);
        Ok(BodyKind::Form { ty, fields, styled })
    }

    /// How the `encoding` of a form field says it is written, when not `form` exploded.
    fn field_style(
        &self,
        name: &str,
        encoding: &'a Encoding,
        pointer: &str,
    ) -> Result<Option<FieldStyle>, Error> {
        let content_type = encoding.content_type.as_deref().map(str::trim);
        if let Some(ct) = content_type {
            if is_json_media(ct) {
                return Ok(Some(FieldStyle {
                    wire_name: name.to_owned(),
                    style: Style::Json,
                    explode: false,
                }));
            }
            if essence(ct) != "text/plain" {
                return Err(self.construct(
                    &format!("{pointer}/contentType"),
                    format!("contentType {ct:?} for a field of a {FORM} body (text or JSON)"),
                ));
            }
        }
        // openapiv3 reads an absent `explode` as false; form's default is true.
        let explicit_explode = self
            .json_at(&format!("{pointer}/explode"))
            .and_then(|v| v.as_bool());
        let style = match encoding.style {
            None | Some(QueryStyle::Form) => Style::Form,
            Some(QueryStyle::SpaceDelimited) => Style::SpaceDelimited,
            Some(QueryStyle::PipeDelimited) => Style::PipeDelimited,
            Some(QueryStyle::DeepObject) => Style::DeepObject,
        };
        let explode = explicit_explode.unwrap_or(style == Style::Form);
        Ok((style != Style::Form || !explode).then(|| FieldStyle {
            wire_name: name.to_owned(),
            style,
            explode,
        }))
    }

    /// A multipart form: one part per property of its object schema, in declared order.
    fn lower_multipart(
        &mut self,
        content: &'a MediaType,
        camel_name: &str,
        content_pointer: &str,
        names: &mut Namespace,
    ) -> Result<BodyKind, Error> {
        let Some(schema) = &content.schema else {
            return Err(self.construct(
                content_pointer,
                format!("a {MULTIPART_FORM} body without a schema"),
            ));
        };
        let (schema_pointer, declared) =
            self.declaration(schema.into(), &format!("{content_pointer}/schema"))?;
        let Some((properties, required, additional)) = object_shape(declared) else {
            return Err(self.not_an_object(&schema_pointer, MULTIPART_FORM));
        };
        if additional {
            return Err(self.construct(
                &schema_pointer,
                format!(
                    "`additionalProperties` in a {MULTIPART_FORM} schema (parts must be named)"
                ),
            ));
        }
        if let Some(key) = content
            .encoding
            .keys()
            .find(|k| !properties.contains_key(*k))
        {
            return Err(self.invalid(
                &format!("{content_pointer}/encoding/{}", escape_pointer(key)),
                format!("an encoding for {key:?}, which is not a property of the body's schema"),
            ));
        }
        let owner = body_ctx(camel_name);
        let mut parts = Vec::with_capacity(properties.len());
        for (wire, property) in properties {
            let property_pointer = format!("{schema_pointer}/properties/{}", escape_pointer(wire));
            let encoding_pointer = format!("{content_pointer}/encoding/{}", escape_pointer(wire));
            let content_type =
                self.part_content_type(content.encoding.get(wire), &encoding_pointer)?;
            let (encoding, docs) = self.part_encoding(
                property,
                content_type,
                &member_ctx(&owner, wire),
                &property_pointer,
                &encoding_pointer,
            )?;
            parts.push(Part {
                rust_name: names.claim(&snake(wire)),
                wire_name: wire.clone(),
                required: required.contains(wire),
                docs,
                encoding,
            });
        }
        Ok(BodyKind::Multipart { parts })
    }

    /// The `contentType` of a part's encoding, once the rest of the encoding is known
    /// to be something the generated code honours.
    fn part_content_type(
        &self,
        encoding: Option<&'a Encoding>,
        pointer: &str,
    ) -> Result<Option<&'a str>, Error> {
        let Some(encoding) = encoding else {
            return Ok(None);
        };
        if let Some(header) = encoding.headers.keys().next() {
            return Err(self.construct(
                &format!("{pointer}/headers/{}", escape_pointer(header)),
                "headers on a multipart part (only Content-Disposition and Content-Type are sent)",
            ));
        }
        for (set, key) in [
            (encoding.style.is_some(), "style"),
            (encoding.explode, "explode"),
            (encoding.allow_reserved, "allowReserved"),
        ] {
            if set {
                return Err(self.construct(
                    &format!("{pointer}/{key}"),
                    format!("`{key}` on a multipart part (parts are sent whole)"),
                ));
            }
        }
        let content_type = encoding.content_type.as_deref().map(str::trim);
        if let Some(nested) = content_type.filter(|ct| essence(ct).starts_with("multipart/")) {
            return Err(self.construct(
                &format!("{pointer}/contentType"),
                format!("a nested multipart part ({nested:?})"),
            ));
        }
        Ok(content_type)
    }

    /// How a property is sent as a part: binary (a file), text, or JSON; and its docs.
    fn part_encoding(
        &mut self,
        property: &'a ReferenceOr<Box<Schema>>,
        content_type: Option<&str>,
        ctx: &str,
        property_pointer: &str,
        encoding_pointer: &str,
    ) -> Result<(PartEncoding, Option<String>), Error> {
        let (_, declared) = self.declaration(property.into(), property_pointer)?;
        let docs = declared.schema_data.description.clone();
        let unhonoured = |lowerer: &Self, what: &str| {
            let ct = content_type.unwrap_or_default();
            lowerer.construct(
                &format!("{encoding_pointer}/contentType"),
                format!("contentType {ct:?} for {what}"),
            )
        };
        if is_binary(declared) {
            let content_type = match content_type {
                None => OCTET_STREAM,
                // One media type is what the part says it is; a list or a range leaves
                // the generated code no one type to send.
                Some(ct) if ct.contains([',', '*']) => {
                    return Err(unhonoured(
                        self,
                        "a binary part (a list or wildcard names no one type to send)",
                    ));
                }
                Some(ct) => ct,
            };
            let encoding = PartEncoding::Binary {
                content_type: content_type.to_owned(),
            };
            return Ok((encoding, docs));
        }
        if list_items(declared).is_some_and(
            |items| matches!(self.declaration(items.into(), ""), Ok((_, item)) if is_binary(item)),
        ) {
            return Err(self.construct(
                property_pointer,
                "a list of files in a multipart body (one part per file is not generated)",
            ));
        }
        let ty = self.type_of(property.into(), ctx, property_pointer)?.ty;
        let text = self.is_text_or_list(&ty);
        let list = matches!(self.resolve_alias(&ty), TypeRef::Vec(_));
        let encoding = match content_type {
            Some(ct) if is_json_media(ct) => PartEncoding::Json {
                ty,
                content_type: ct.to_owned(),
            },
            None if !text => PartEncoding::Json {
                ty,
                content_type: "application/json".to_owned(),
            },
            None => PartEncoding::Text {
                ty,
                list,
                content_type: None,
            },
            Some(ct) if text && essence(ct) == "text/plain" => PartEncoding::Text {
                ty,
                list,
                content_type: Some(ct.to_owned()),
            },
            Some(_) if text => return Err(unhonoured(self, "a text part (text/plain or JSON)")),
            Some(_) => return Err(unhonoured(self, "a JSON part (a JSON media type)")),
        };
        Ok((encoding, docs))
    }

    /// Where a schema is written, and the schema, through `$ref`s to components.
    fn declaration(
        &self,
        schema: SchemaRef<'a>,
        pointer: &str,
    ) -> Result<(String, &'a Schema), Error> {
        Ok(match schema {
            SchemaRef::Ref(reference) => {
                let (name, target) = self.resolve(reference, pointer)?;
                (
                    format!("/components/schemas/{}", escape_pointer(&name)),
                    target,
                )
            }
            SchemaRef::Item(schema) => (pointer.to_owned(), schema),
        })
    }

    /// The error for a form or multipart schema that is not an object of fields.
    fn not_an_object(&self, pointer: &str, media: &str) -> Error {
        self.construct(
            pointer,
            format!("a {media} body whose schema is not an object with properties"),
        )
    }
}

/// A media type without its parameters, in lower case.
fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The properties, required names and whether other properties are allowed, of a
/// plain object schema (no `allOf`, `oneOf` or `anyOf`).
fn object_shape(schema: &Schema) -> Option<ObjectShape<'_>> {
    let allows_more = |additional: Option<&openapiv3::AdditionalProperties>| {
        !matches!(
            additional,
            None | Some(openapiv3::AdditionalProperties::Any(false))
        )
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) if !o.properties.is_empty() => Some((
            &o.properties,
            &o.required,
            allows_more(o.additional_properties.as_ref()),
        )),
        SchemaKind::Any(a)
            if !a.properties.is_empty()
                && a.all_of.is_empty()
                && a.one_of.is_empty()
                && a.any_of.is_empty()
                && matches!(a.typ.as_deref(), None | Some("object")) =>
        {
            Some((
                &a.properties,
                &a.required,
                allows_more(a.additional_properties.as_ref()),
            ))
        }
        _ => None,
    }
}

/// Whether a schema is a file: `type: string, format: binary`.
fn is_binary(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            matches!(
                s.format,
                VariantOrUnknownOrEmpty::Item(StringFormat::Binary)
            )
        }
        SchemaKind::Any(a) => {
            a.typ.as_deref() == Some("string") && a.format.as_deref() == Some("binary")
        }
        _ => false,
    }
}

/// The items of a list schema.
fn list_items(schema: &Schema) -> Option<&ReferenceOr<Box<Schema>>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Array(a)) => a.items.as_ref(),
        SchemaKind::Any(a) if a.typ.as_deref() == Some("array") => a.items.as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::lower;
    use super::super::test_support::{config, spec};
    use super::*;

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /files/{id}/content:
    post:
      operationId: upload_version
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: file, in: header, schema: {type: string}}
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              required: [zone, file]
              properties:
                zone: {$ref: "#/components/schemas/Zone"}
                attributes: {type: object, properties: {name: {type: string}}}
                file: {$ref: "#/components/schemas/Blob"}
                sizes: {type: array, items: {type: integer}}
            encoding:
              file: {contentType: image/png}
              sizes: {contentType: application/json}
      responses:
        "201": {description: ok}
  /token:
    post:
      operationId: token
      requestBody:
        content:
          application/x-www-form-urlencoded; charset=utf-8:
            schema:
              type: object
              properties:
                zone: {$ref: "#/components/schemas/Zone"}
                scope: {type: string}
      responses:
        "200": {description: ok}
components:
  schemas:
    Zone: {type: string, enum: [west, east]}
    Blob: {type: string, format: binary}
"##;

    /// The body of the operation named `method` in the lowered SPEC.
    fn body(method: &str) -> RequestBody {
        let api = lower(&spec(SPEC), &config("[select]\nall = true\n")).unwrap();
        let op = api.operations.iter().find(|o| o.method_name == method);
        op.and_then(|o| o.body.clone()).unwrap()
    }

    #[test]
    fn multipart_parts_keep_the_declared_order_and_their_encodings() {
        let BodyKind::Multipart { parts } = body("upload_version").kind else {
            panic!("not multipart");
        };
        let summary: Vec<(&str, &str, bool)> = parts
            .iter()
            .map(|p| (p.wire_name.as_str(), p.rust_name.as_str(), p.required))
            .collect();
        // `file` is also a header parameter's name: the part's field gets another.
        assert_eq!(
            summary,
            [
                ("zone", "zone", true),
                ("attributes", "attributes", false),
                ("file", "file2", true),
                ("sizes", "sizes", false),
            ]
        );
        let encodings: Vec<&PartEncoding> = parts.iter().map(|p| &p.encoding).collect();
        assert_eq!(
            encodings,
            [
                &PartEncoding::Text {
                    ty: TypeRef::Named("Zone".into()),
                    list: false,
                    content_type: None
                },
                &PartEncoding::Json {
                    ty: TypeRef::Named("UploadVersionBodyAttributes".into()),
                    content_type: "application/json".into()
                },
                &PartEncoding::Binary {
                    content_type: "image/png".into()
                },
                &PartEncoding::Json {
                    ty: TypeRef::Vec(Box::new(TypeRef::I64)),
                    content_type: "application/json".into()
                },
            ]
        );
    }

    #[test]
    fn a_form_body_is_its_type_with_the_fields_in_declared_order() {
        let body = body("token");
        assert_eq!(
            body.media_type,
            "application/x-www-form-urlencoded; charset=utf-8"
        );
        assert_eq!(
            body.kind,
            BodyKind::Form {
                ty: TypeRef::Named("TokenBody".into()),
                fields: vec!["zone".into(), "scope".into()],
                styled: None,
            }
        );
    }
}

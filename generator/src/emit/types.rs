//! The named types of `types.rs`: structs, open enums, unions and aliases, each with
//! its serde impls.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::docs::{docs, shown};
use super::{ident, type_tokens};
use crate::ir::{EnumVariant, Field, TypeDef, TypeKind, TypeRef, UnionVariant};

/// The start of `types.rs`: its docs.
pub(super) fn emit_types_head() -> TokenStream {
    quote! {
        //! Request and response types.
    }
}

/// One named type, with its docs.
pub(super) fn emit_type(def: &TypeDef) -> TokenStream {
    let name = ident(&def.name);
    let doc = docs(def.docs.as_deref());
    match &def.kind {
        TypeKind::Struct {
            fields,
            additional,
            default,
            unknown_fields,
        } => {
            let shape = StructShape {
                additional: additional.as_ref(),
                default: *default,
                unknown_fields: unknown_fields.as_deref(),
                read_only: def.usage.read_only(),
            };
            emit_struct(&name, doc, fields, shape)
        }
        TypeKind::Enum { variants } => emit_enum(&name, doc, variants),
        TypeKind::Union {
            variants,
            discriminator,
            text,
        } => {
            let mut union = emit_union(&name, doc, variants, discriminator.as_deref());
            if *text {
                union.extend(union_display(&name, variants));
            }
            union
        }
        TypeKind::Alias(ty) => {
            let ty = type_tokens(ty);
            quote! {
                #doc
                pub type #name = #ty;
            }
        }
    }
}

/// What a struct is besides its fields.
struct StructShape<'a> {
    /// The value type of unlisted properties the object allows.
    additional: Option<&'a TypeRef>,
    /// Every field has a default.
    default: bool,
    /// The name of the map of members the spec does not list, when they are kept.
    unknown_fields: Option<&'a str>,
    /// Only read from responses: users never build one.
    read_only: bool,
}

/// A struct; unlisted properties, when the object allows them, go to a flattened map,
/// as do unknown members when they are kept. A struct users only read is
/// `#[non_exhaustive]`, so that a field the API adds is not a breaking change.
fn emit_struct(
    name: &Ident,
    doc: TokenStream,
    fields: &[Field],
    shape: StructShape,
) -> TokenStream {
    let fields = fields.iter().map(emit_field);
    let additional = shape.additional.map(|ty| {
        let ty = type_tokens(ty);
        quote! {
            /// Properties not listed above.
            #[serde(flatten)]
            pub additional_properties: ::std::collections::BTreeMap<String, #ty>,
        }
    });
    let unknown = shape.unknown_fields.map(|field| {
        let field = ident(field);
        quote! {
            /// Members the spec does not list (fields added to the API after this
            /// client was generated), kept so that they survive a decode and a re-encode.
            #[serde(flatten)]
            pub #field: ::std::collections::BTreeMap<String, ::serde_json::Value>,
        }
    });
    let default = shape.default.then(|| quote! { Default, });
    let non_exhaustive = shape.read_only.then(|| quote! { #[non_exhaustive] });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #default ::serde::Serialize, ::serde::Deserialize)]
        #non_exhaustive
        pub struct #name {
            #( #fields )*
            #additional
            #unknown
        }
    }
}

fn emit_field(field: &Field) -> TokenStream {
    let doc = docs(field.docs.as_deref());
    let name = ident(&field.rust_name);
    let mut ty = type_tokens(&field.ty);
    if field.boxed {
        ty = quote! { Box<#ty> };
    }
    let rename = (field.rust_name != field.wire_name).then(|| {
        let wire = &field.wire_name;
        quote! { rename = #wire, }
    });
    let (ty, skip) = if field.is_option() {
        // An optional field that is absent stays absent on the wire; a required
        // nullable one is written as `null`.
        let skip =
            (!field.required).then(|| quote! { default, skip_serializing_if = "Option::is_none", });
        (quote! { Option<#ty> }, skip)
    } else {
        (ty, None)
    };
    let attr = (rename.is_some() || skip.is_some()).then(|| quote! { #[serde(#rename #skip)] });
    quote! {
        #doc
        #attr
        pub #name: #ty,
    }
}

/// An open enum: the known values, and `Unknown(String)` for any other (its serde
/// impls come from `oas_runtime::open_enum!`).
fn emit_enum(name: &Ident, doc: TokenStream, variants: &[EnumVariant]) -> TokenStream {
    let names: Vec<Ident> = variants.iter().map(|v| ident(&v.rust_name)).collect();
    let values: Vec<&str> = variants.iter().map(|v| v.wire_value.as_str()).collect();
    let variant_docs = values.iter().map(|v| format!(" `{}`", shown(v)));
    quote! {
        #doc
        ///
        /// An open enum: a value this client does not know is kept as `Unknown`.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #names, )*
            /// A value not known when this client was generated.
            Unknown(String),
        }

        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#names => #values, )*
                    Self::Unknown(value) => value,
                }
            }

            fn known(value: &str) -> Option<Self> {
                match value {
                    #( #values => Some(Self::#names), )*
                    _ => None,
                }
            }
        }

        ::oas_runtime::open_enum!(#name);
    }
}

/// A union: one variant per alternative, and `Other(serde_json::Value)` for a value
/// that fits none. Serialized as the variant's value; decoded by [`union_decode`].
fn emit_union(
    name: &Ident,
    doc: TokenStream,
    variants: &[UnionVariant],
    discriminator: Option<&str>,
) -> TokenStream {
    let names: Vec<Ident> = variants.iter().map(|v| ident(&v.rust_name)).collect();
    let types: Vec<TokenStream> = variants.iter().map(|v| type_tokens(&v.ty)).collect();
    let variant_docs = variants.iter().map(|v| match (&v.tag, discriminator) {
        (Some(tag), Some(property)) => {
            format!(" When `{}` is `{}`.", shown(property), shown(tag))
        }
        _ => format!(" A `{}`.", v.rust_name),
    });
    let decode = union_decode(variants, &names, &types, discriminator);
    let how = union_how(discriminator);
    quote! {
        #doc
        ///
        #[doc = #how]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum #name {
            #( #[doc = #variant_docs] #names(#types), )*
            /// A value that matches no known alternative.
            Other(::serde_json::Value),
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #( Self::#names(value) => ::serde::Serialize::serialize(value, serializer), )*
                    Self::Other(value) => ::serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                #decode
            }
        }
    }
}

/// `Display` of a union whose alternatives all have a text form: the text of the
/// alternative it holds (a date-time in RFC 3339; a string kept in `Other` as it is).
fn union_display(name: &Ident, variants: &[UnionVariant]) -> TokenStream {
    let arms = variants.iter().map(|v| {
        let variant = ident(&v.rust_name);
        match &v.ty {
            TypeRef::DateTime => {
                quote! { Self::#variant(value) => f.write_str(&value.to_rfc3339()), }
            }
            _ => quote! { Self::#variant(value) => ::std::fmt::Display::fmt(value, f), },
        }
    });
    quote! {
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    #( #arms )*
                    Self::Other(::serde_json::Value::String(value)) => f.write_str(value),
                    Self::Other(value) => ::std::fmt::Display::fmt(value, f),
                }
            }
        }
    }
}

/// The statements that turn the JSON `value` into a union: by the discriminator's tag
/// when there is one, else the first alternative that decodes.
fn union_decode(
    variants: &[UnionVariant],
    names: &[Ident],
    types: &[TokenStream],
    discriminator: Option<&str>,
) -> TokenStream {
    match discriminator {
        Some(property) => {
            let tags = variants
                .iter()
                .map(|v| v.tag.clone().unwrap_or_else(|| v.rust_name.clone()));
            quote! {
                let tag = value.get(#property).and_then(::serde_json::Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    #( Some(#tags) => <#types as ::serde::Deserialize>::deserialize(value).map(Self::#names).map_err(::serde::de::Error::custom), )*
                    _ => Ok(Self::Other(value)),
                }
            }
        }
        None => quote! {
            #(
                if let Ok(variant) = <#types as ::serde::Deserialize>::deserialize(&value) {
                    return Ok(Self::#names(variant));
                }
            )*
            Ok(Self::Other(value))
        },
    }
}

/// The doc line that says how a union's alternatives are told apart.
fn union_how(discriminator: Option<&str>) -> String {
    match discriminator {
        Some(property) => {
            let property = shown(property);
            format!(" Told apart by `{property}`; an unknown `{property}` is kept as `Other`.")
        }
        None => {
            " The first alternative that decodes wins; a value that fits none is kept as `Other`."
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::build::*;
    use quote::ToTokens;

    /// A named type, with docs.
    fn def(name: &str, docs: &str, kind: TypeKind) -> TypeDef {
        TypeDef {
            name: name.into(),
            docs: Some(docs.into()),
            kind,
            pointer: format!("/components/schemas/{name}"),
            usage: crate::ir::Usage::default(),
        }
    }

    #[test]
    fn struct_fields_are_renamed_skipped_when_absent_boxed_and_extras_flattened() {
        let mut kind = field("kind", TypeRef::String, false);
        kind.wire_name = "$kind".into();
        let mut parent = field("parent", named("Folder"), true);
        parent.nullable = true;
        parent.boxed = true;
        let fields = vec![field("id", TypeRef::String, true), kind, parent];
        let file = def(
            "File",
            "A file.",
            TypeKind::Struct {
                fields,
                additional: Some(TypeRef::I64),
                default: false,
                unknown_fields: None,
            },
        );
        assert_tokens(
            emit_type(&file),
            quote! {
                #[doc = " A file."]
                #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
                pub struct File {
                    pub id: String,
                    #[serde(rename = "$kind", default, skip_serializing_if = "Option::is_none",)]
                    pub kind: Option<String>,
                    pub parent: Option<Box<Folder>>,
                    /// Properties not listed above.
                    #[serde(flatten)]
                    pub additional_properties: ::std::collections::BTreeMap<String, i64>,
                }
            },
        );
    }

    /// Whether an item has the attribute `#[name]` (or `#[name(...)]`).
    fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
        attrs.iter().any(|a| a.path().is_ident(name))
    }

    #[test]
    fn a_struct_only_read_is_non_exhaustive_and_a_sent_one_is_not() {
        for (request, non_exhaustive) in [(false, true), (true, false)] {
            let mut part = strukt("Part", vec![field("id", TypeRef::String, true)]);
            part.usage = crate::ir::Usage {
                request,
                response: true,
            };
            if let TypeKind::Struct { unknown_fields, .. } = &mut part.kind {
                *unknown_fields = Some("unknown_fields2".into());
            }
            let item: syn::ItemStruct = syn::parse2(emit_type(&part)).unwrap();
            assert_eq!(has_attr(&item.attrs, "non_exhaustive"), non_exhaustive);
            let last = item.fields.iter().last().unwrap();
            assert_eq!(last.ident.as_ref().unwrap(), "unknown_fields2");
            assert_eq!(
                last.ty.to_token_stream().to_string().replace(' ', ""),
                "::std::collections::BTreeMap<String,::serde_json::Value>"
            );
            let serde = last
                .attrs
                .iter()
                .find(|a| a.path().is_ident("serde"))
                .unwrap();
            assert_eq!(serde.meta.to_token_stream().to_string(), "serde (flatten)");
        }
        let plain = strukt("Plain", vec![field("id", TypeRef::String, true)]);
        let item: syn::ItemStruct = syn::parse2(emit_type(&plain)).unwrap();
        assert!(!has_attr(&item.attrs, "non_exhaustive"));
        assert_eq!(item.fields.len(), 1, "no map unless the pass names one");
    }

    #[test]
    fn a_struct_whose_fields_all_have_defaults_derives_default() {
        let mut options = strukt("Options", vec![field("limit", TypeRef::I32, false)]);
        if let TypeKind::Struct { default, .. } = &mut options.kind {
            *default = true;
        }
        let item: syn::ItemStruct = syn::parse2(emit_type(&options)).unwrap();
        let derive = item.attrs[0].meta.to_token_stream().to_string();
        assert!(derive.contains("Default"), "{derive}");
    }

    #[test]
    fn an_open_enum_keeps_unknown_values_and_maps_both_ways() {
        let variants = [("Active", "active"), ("OnHold", "on\rhold")]
            .map(|(rust_name, wire_value)| EnumVariant {
                rust_name: rust_name.into(),
                wire_value: wire_value.into(),
            })
            .to_vec();
        let status = def("Status", "A status.", TypeKind::Enum { variants });
        let file: syn::File = syn::parse2(emit_type(&status)).unwrap();
        let [
            syn::Item::Enum(item),
            syn::Item::Impl(methods),
            syn::Item::Macro(serde),
        ] = &file.items[..]
        else {
            panic!("not an enum, its impl and the serde macro");
        };
        let variants: Vec<String> = item.variants.iter().map(|v| v.ident.to_string()).collect();
        assert_eq!(variants, ["Active", "OnHold", "Unknown"]);
        assert!(
            item.attrs
                .iter()
                .any(|a| a.path().is_ident("non_exhaustive"))
        );
        // The CR of the wire value is escaped in the variant's doc, not a line break.
        let doc = item.variants[1].attrs[0].meta.to_token_stream().to_string();
        assert_eq!(doc, r#"doc = " `on\\rhold`""#);

        let methods: Vec<String> = methods
            .items
            .iter()
            .map(|item| match item {
                syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                _ => panic!("not a method"),
            })
            .collect();
        assert_eq!(methods, ["as_str", "known"]);
        assert_tokens(
            serde.to_token_stream(),
            quote! { ::oas_runtime::open_enum!(Status); },
        );
    }

    #[test]
    fn a_tagged_union_decodes_by_its_tag_and_keeps_other_tags() {
        let variants: Vec<UnionVariant> = ["File", "Folder"]
            .map(|name| UnionVariant {
                rust_name: name.into(),
                ty: named(name),
                tag: Some(name.to_lowercase()),
            })
            .to_vec();
        let names = [ident("File"), ident("Folder")];
        let types = [quote! { File }, quote! { Folder }];
        assert_tokens(
            union_decode(&variants, &names, &types, Some("type")),
            quote! {
                let tag = value.get("type").and_then(::serde_json::Value::as_str).map(str::to_owned);
                match tag.as_deref() {
                    Some("file") => <File as ::serde::Deserialize>::deserialize(value).map(Self::File).map_err(::serde::de::Error::custom),
                    Some("folder") => <Folder as ::serde::Deserialize>::deserialize(value).map(Self::Folder).map_err(::serde::de::Error::custom),
                    _ => Ok(Self::Other(value)),
                }
            },
        );
        let item = def(
            "Item",
            "An item.",
            TypeKind::Union {
                variants,
                discriminator: Some("type".into()),
                text: false,
            },
        );
        let file: syn::File = syn::parse2(emit_type(&item)).unwrap();
        let syn::Item::Enum(item) = &file.items[0] else {
            panic!("not an enum");
        };
        let variants: Vec<String> = item.variants.iter().map(|v| v.ident.to_string()).collect();
        assert_eq!(variants, ["File", "Folder", "Other"]);
        assert!(
            has_attr(&item.attrs, "non_exhaustive"),
            "a new alternative breaks no match"
        );
        assert_eq!(file.items.len(), 3, "the enum and its two serde impls");
    }

    #[test]
    fn an_untagged_union_takes_the_first_alternative_that_decodes() {
        let variants: Vec<UnionVariant> = [("Text", TypeRef::String), ("Number", TypeRef::I64)]
            .map(|(name, ty)| UnionVariant {
                rust_name: name.into(),
                ty,
                tag: None,
            })
            .to_vec();
        let names = [ident("Text"), ident("Number")];
        let types = [quote! { String }, quote! { i64 }];
        assert_tokens(
            union_decode(&variants, &names, &types, None),
            quote! {
                if let Ok(variant) = <String as ::serde::Deserialize>::deserialize(&value) {
                    return Ok(Self::Text(variant));
                }
                if let Ok(variant) = <i64 as ::serde::Deserialize>::deserialize(&value) {
                    return Ok(Self::Number(variant));
                }
                Ok(Self::Other(value))
            },
        );
    }
}

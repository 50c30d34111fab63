//! The shared impls of generated open enums.

/// Implements, for an open enum, `From<&str>`, `From<String>`, `FromStr` (infallible),
/// `Display`, and serde as its wire string.
///
/// The enum must have an `Unknown(String)` variant and two methods, `as_str(&self) ->
/// &str` (the wire value) and `known(&str) -> Option<Self>` (the variant of a known wire
/// value); the crate that calls the macro must depend on `serde`. Generated clients call
/// it once per enum instead of repeating six impls: on a big spec those impls were two
/// thirds of the generated code.
///
/// ```
/// #[derive(Debug, PartialEq)]
/// enum Color {
///     Red,
///     Unknown(String),
/// }
///
/// impl Color {
///     fn as_str(&self) -> &str {
///         match self {
///             Self::Red => "red",
///             Self::Unknown(value) => value,
///         }
///     }
///
///     fn known(value: &str) -> Option<Self> {
///         (value == "red").then_some(Self::Red)
///     }
/// }
///
/// oas_runtime::open_enum!(Color);
///
/// assert_eq!(Color::from("red"), Color::Red);
/// assert_eq!("teal".parse::<Color>(), Ok(Color::Unknown("teal".into())));
/// assert_eq!(Color::Unknown("teal".into()).to_string(), "teal");
/// assert_eq!(serde_json::to_string(&Color::Red).unwrap(), r#""red""#);
/// assert_eq!(serde_json::from_str::<Color>(r#""blue""#).unwrap(), Color::Unknown("blue".into()));
/// ```
#[macro_export]
macro_rules! open_enum {
    ($name:ident) => {
        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::known(value).unwrap_or_else(|| Self::Unknown(value.to_owned()))
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::known(&value).unwrap_or(Self::Unknown(value))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;

            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                ::std::result::Result::Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)
                    .map(Self::from)
            }
        }
    };
}

//! Scalar types that accept the spellings Meta actually sends: timestamps as strings in
//! message/status webhooks and as integers elsewhere; ids as strings or integers.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Unix seconds, from `"1751247548"` or `1751247548`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("unix seconds as an integer or a string of digits")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.trim()
                    .parse()
                    .map(Timestamp)
                    .map_err(|_| E::custom("timestamp is not an integer"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Text borrowed from the body when it holds no escapes (serde only borrows a field spelled
/// literally `Cow<'a, str>`, never inside `Option`, so this does it explicitly). Integers
/// are accepted and kept as text: Meta sends some ids as numbers (`message_template_id`,
/// group `wa_id`s, the enable-insights response).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an id as a string or an integer")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(Cow::Borrowed(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_string_or_integer() {
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"1751247548\"").unwrap(),
            Timestamp(1751247548)
        );
        assert_eq!(
            serde_json::from_str::<Timestamp>("1751247548").unwrap(),
            Timestamp(1751247548)
        );
        assert!(serde_json::from_str::<Timestamp>("\"soon\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1.5").is_err());
        assert!(serde_json::from_str::<Timestamp>("99999999999999999999").is_err());
    }

    #[test]
    fn ids_as_string_or_integer() {
        let id: Text = serde_json::from_str("\"1234\"").unwrap();
        assert!(matches!(id.0, Cow::Borrowed("1234")));
        let id: Option<Text> = serde_json::from_str("\"abc\"").unwrap();
        assert!(
            matches!(id.unwrap().0, Cow::Borrowed("abc")),
            "borrows inside Option too"
        );
        let id: Text = serde_json::from_str("\"a\\/b\"").unwrap();
        assert_eq!(id.as_str(), "a/b");
        let id: Text = serde_json::from_str("1234").unwrap();
        assert_eq!(id.as_str(), "1234");
        assert!(serde_json::from_str::<Text>("[1]").is_err());
    }
}

//! Lossless parsing: every key the model does not declare is named, not dropped.

use crate::domain::lenient::Text;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};

/// A parsed response and the paths of every key it held that the model does not declare.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub value: T,
    pub unknown_fields: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsParseError {
    #[error("not a {kind} response: {source}")]
    Shape {
        kind: &'static str,
        source: serde_json::Error,
    },
    #[error("not a Graph analytics or templates response we recognise")]
    Unrecognised,
}

/// Parses `T` from `body`, collecting the paths of keys `T` does not declare.
pub fn parse<T: DeserializeOwned>(
    kind: &'static str,
    body: &[u8],
) -> Result<Parsed<T>, AnalyticsParseError> {
    let shape = |source| AnalyticsParseError::Shape { kind, source };
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut unknown = Vec::new();
    let value =
        serde_ignored::deserialize(&mut de, |path| unknown.push(clean_path(&path.to_string())))
            .map_err(shape)?;
    de.end().map_err(shape)?;
    Ok(Parsed {
        value,
        unknown_fields: unknown,
    })
}

/// `data.0.data_points.3.?.x` → `data.0.data_points.3.x` (`?` marks an `Option` level).
fn clean_path(path: &str) -> String {
    path.split('.')
        .filter(|seg| *seg != "?")
        .collect::<Vec<_>>()
        .join(".")
}

pub(super) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0.into_owned())
}

pub(super) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Text>::deserialize(d).map(|t| t.map(|t| t.0.into_owned()))
}

//! JSON decoding helpers shared by the manifest and ACR models.

use serde::Deserialize;

/// Reads `null` as an empty list (registries write `"tags": null`).
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

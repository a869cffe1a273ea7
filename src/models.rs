//! The ACR metadata models: what `/acr/v1` answers, and the bodies its `PATCH` requests take.
//!
//! These mirror the Go SDK's models (module `azcontainerregistry` v0.2) field for field, in Rust
//! case: `RegistryLoginServer` is [`RepositoryProperties::registry_login_server`], `CreatedOn` is
//! `created_on`, `CanDelete` is `can_delete`, and so on. On the wire the ACR names are kept
//! (`registry`, `imageName`, `createdTime`, `deleteEnabled`, …), for reading and for writing, so a
//! model printed with `serde_json` looks like what the registry sent.
//!
//! Decoding is tolerant, because ACR adds keys no specification lists:
//! - unknown keys are ignored (real responses carry `quarantineState`, `teleportEnabled`, `signed`,
//!   …);
//! - a missing optional field becomes `None`, an empty list, an empty string or zero;
//! - architectures and operating systems are kept as the registry's strings (the Go SDK has closed
//!   enums `ArtifactArchitecture` / `ArtifactOperatingSystem`): a value that is new to this crate
//!   never fails to parse, and nothing is lost;
//! - times are parsed by [`Timestamp`], which accepts everything ACR has been seen to send (RFC
//!   3339 with 0 to 9 fractional digits, `T` or a space, `Z`, an offset, or no zone at all).
//!
//! Response structs are `#[non_exhaustive]`: the registry may grow fields, and so may they. The
//! writeable property structs ([`RepositoryWriteableProperties`], [`TagWriteableProperties`],
//! [`ManifestWriteableProperties`]) are built by callers with `..Default::default()`; only the
//! fields set go on the wire, so a `PATCH` changes exactly what was asked.
//!
//! ```
//! use azcontainerregistry::{ArtifactTagProperties, TagWriteableProperties};
//!
//! let body = br#"{"registry":"r.azurecr.io","imageName":"hello-world","tag":{"name":"latest",
//!   "digest":"sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f",
//!   "createdTime":"2024-04-25T02:20:49.5614991Z","lastUpdateTime":"2024-04-25T02:20:49.5614991Z",
//!   "signed":false,"changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,
//!   "readEnabled":true,"listEnabled":true,"quarantineState":"Passed"}}}"#;
//! let props: ArtifactTagProperties = serde_json::from_slice(body)?;
//! assert_eq!(props.tag.name, "latest");
//! assert_eq!(props.tag.changeable_attributes.can_delete, Some(true));
//! assert_eq!(
//!     props
//!         .tag
//!         .created_on
//!         .as_ref()
//!         .map(|t| t.to_string())
//!         .as_deref(),
//!     Some("2024-04-25T02:20:49.5614991Z")
//! );
//!
//! // Lock the tag against deletion; the other attributes stay as they are.
//! let patch = TagWriteableProperties {
//!     can_delete: Some(false),
//!     ..Default::default()
//! };
//! assert_eq!(serde_json::to_string(&patch)?, r#"{"deleteEnabled":false}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::json::null_as_empty;
pub use crate::timestamp::Timestamp;

// -------------------------------------------------------------------------------------------------
// Ordering of list results
// -------------------------------------------------------------------------------------------------

/// The order in which tags or manifests are listed (the `orderby` query parameter).
///
/// The Go SDK has two enums with the same three values (`ArtifactTagOrderBy`,
/// `ArtifactManifestOrderBy`); here one type serves both, with the aliases [`TagOrderBy`] and
/// [`ManifestOrderBy`].
///
/// ```
/// use azcontainerregistry::ArtifactOrder;
/// assert_eq!(
///     ArtifactOrder::LastUpdatedOnDescending.as_query_value(),
///     "timedesc"
/// );
/// assert_eq!(
///     "timeasc".parse::<ArtifactOrder>()?,
///     ArtifactOrder::LastUpdatedOnAscending
/// );
/// # Ok::<(), azcontainerregistry::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ArtifactOrder {
    /// No particular order (`none`): the registry's default, lexical by name or digest.
    #[default]
    None,
    /// Most recently updated first (`timedesc`).
    LastUpdatedOnDescending,
    /// Least recently updated first (`timeasc`).
    LastUpdatedOnAscending,
}

/// The order of [`TagAttributes`] in a tag list; the Go SDK's `ArtifactTagOrderBy`.
pub type TagOrderBy = ArtifactOrder;

/// The order of [`ManifestAttributes`] in a manifest list; the Go SDK's `ArtifactManifestOrderBy`.
pub type ManifestOrderBy = ArtifactOrder;

impl ArtifactOrder {
    /// The value of the `orderby` query parameter: `none`, `timedesc` or `timeasc`.
    pub fn as_query_value(self) -> &'static str {
        match self {
            ArtifactOrder::None => "none",
            ArtifactOrder::LastUpdatedOnDescending => "timedesc",
            ArtifactOrder::LastUpdatedOnAscending => "timeasc",
        }
    }
}

impl fmt::Display for ArtifactOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_query_value())
    }
}

impl FromStr for ArtifactOrder {
    type Err = Error;
    /// Reads `none`, `timedesc` or `timeasc` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(ArtifactOrder::None),
            "timedesc" => Ok(ArtifactOrder::LastUpdatedOnDescending),
            "timeasc" => Ok(ArtifactOrder::LastUpdatedOnAscending),
            _ => Err(Error::invalid(
                "order",
                s,
                "expected none, timedesc or timeasc",
            )),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Changeable attributes
// -------------------------------------------------------------------------------------------------

/// The `changeableAttributes` of a repository, tag or manifest, as the registry reports them.
///
/// The four permissions are `None` only when the registry left them out. ACR also reports
/// attributes no specification lists; the known ones are kept, any other is ignored. To change
/// attributes, send a [`RepositoryWriteableProperties`], [`TagWriteableProperties`] or
/// [`ManifestWriteableProperties`]; each can be made from this with `From` (the four permissions
/// are copied).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeableAttributes {
    /// Whether it may be deleted (`deleteEnabled`).
    #[serde(
        rename = "deleteEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_delete: Option<bool>,
    /// Whether it may be overwritten (`writeEnabled`).
    #[serde(
        rename = "writeEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_write: Option<bool>,
    /// Whether it shows in lists (`listEnabled`).
    #[serde(
        rename = "listEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_list: Option<bool>,
    /// Whether it may be pulled (`readEnabled`).
    #[serde(
        rename = "readEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub can_read: Option<bool>,
    /// The quarantine state of a manifest (`quarantineState`, e.g. `Passed`), on registries with
    /// the quarantine policy.
    #[serde(
        rename = "quarantineState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quarantine_state: Option<String>,
    /// Free-form detail of the quarantine state (`quarantineDetails`).
    #[serde(
        rename = "quarantineDetails",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub quarantine_details: Option<String>,
    /// Whether image streaming ("teleport") is enabled for a repository (`teleportEnabled`).
    #[serde(
        rename = "teleportEnabled",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub teleport_enabled: Option<bool>,
}

macro_rules! writeable_properties {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        pub struct $name {
            #[doc = concat!("Whether the ", $what, " may be deleted (`deleteEnabled`).")]
            #[serde(rename = "deleteEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_delete: Option<bool>,
            #[doc = concat!("Whether the ", $what, " may be overwritten (`writeEnabled`).")]
            #[serde(rename = "writeEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_write: Option<bool>,
            #[doc = concat!("Whether the ", $what, " shows in lists (`listEnabled`).")]
            #[serde(rename = "listEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_list: Option<bool>,
            #[doc = concat!("Whether the ", $what, " may be pulled (`readEnabled`).")]
            #[serde(rename = "readEnabled", default, skip_serializing_if = "Option::is_none")]
            pub can_read: Option<bool>,
        }

        impl $name {
            /// True when no field is set: sending it would change nothing.
            pub fn is_empty(&self) -> bool {
                self.can_delete.is_none()
                    && self.can_write.is_none()
                    && self.can_list.is_none()
                    && self.can_read.is_none()
            }
        }

        impl From<&ChangeableAttributes> for $name {
            fn from(a: &ChangeableAttributes) -> Self {
                $name {
                    can_delete: a.can_delete,
                    can_write: a.can_write,
                    can_list: a.can_list,
                    can_read: a.can_read,
                }
            }
        }

        impl From<ChangeableAttributes> for $name {
            fn from(a: ChangeableAttributes) -> Self {
                $name::from(&a)
            }
        }
    };
}

writeable_properties!(
    /// The body of a repository `PATCH` (update repository properties): only the fields set are
    /// sent.
    ///
    /// ```
    /// use azcontainerregistry::RepositoryWriteableProperties;
    /// let p = RepositoryWriteableProperties {
    ///     can_write: Some(false),
    ///     can_delete: Some(false),
    ///     ..Default::default()
    /// };
    /// assert_eq!(serde_json::to_string(&p)?, r#"{"deleteEnabled":false,"writeEnabled":false}"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    RepositoryWriteableProperties,
    "repository"
);

writeable_properties!(
    /// The body of a tag `PATCH` (update tag properties): only the fields set are sent.
    TagWriteableProperties,
    "tag"
);

writeable_properties!(
    /// The body of a manifest `PATCH` (update manifest properties): only the fields set are sent.
    ManifestWriteableProperties,
    "manifest"
);

// -------------------------------------------------------------------------------------------------
// Repositories
// -------------------------------------------------------------------------------------------------

/// A repository's properties: the answer of `GET /acr/v1/{name}` and of its `PATCH`.
/// The Go SDK's `ContainerRepositoryProperties`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryProperties {
    /// The registry's login server, e.g. `myregistry.azurecr.io` (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// When the repository was created (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the repository last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// How many manifests it holds (`manifestCount`).
    #[serde(rename = "manifestCount", default)]
    pub manifest_count: u64,
    /// How many tags it holds (`tagCount`).
    #[serde(rename = "tagCount", default)]
    pub tag_count: u64,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// One page of `GET /acr/v1/_catalog`: repository names. The Go SDK's `Repositories`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepositoryList {
    /// The repository names on this page (`repositories`; `null` reads as empty).
    #[serde(rename = "repositories", default, deserialize_with = "null_as_empty")]
    pub names: Vec<String>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What `DELETE /acr/v1/{name}` removed. The Go SDK's `DeleteRepositoryResult`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteRepositoryResult {
    /// The digests of the deleted manifests (`manifestsDeleted`).
    #[serde(
        rename = "manifestsDeleted",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub deleted_manifests: Vec<Digest>,
    /// The deleted tags (`tagsDeleted`).
    #[serde(rename = "tagsDeleted", default, deserialize_with = "null_as_empty")]
    pub deleted_tags: Vec<String>,
}

// -------------------------------------------------------------------------------------------------
// Tags
// -------------------------------------------------------------------------------------------------

/// A tag's properties. The Go SDK's `TagAttributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TagAttributes {
    /// The tag (`name`).
    #[serde(default)]
    pub name: String,
    /// The digest of the manifest it points to (`digest`).
    pub digest: Digest,
    /// When the tag was created (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the tag last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// Whether the tag is signed (`signed`, a legacy content-trust flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// The answer of `GET /acr/v1/{name}/_tags/{tag}`: a tag and where it lives.
/// The Go SDK's `ArtifactTagProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactTagProperties {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The tag (`tag`).
    pub tag: TagAttributes,
}

/// One page of `GET /acr/v1/{name}/_tags`. The Go SDK's `TagList`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TagList {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The tags on this page (`tags`; `null` reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<TagAttributes>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

// -------------------------------------------------------------------------------------------------
// Manifests
// -------------------------------------------------------------------------------------------------

/// A manifest an index refers to, with its platform. The Go SDK's `ArtifactManifestPlatform`
/// (`ManifestAttributes.RelatedArtifacts`, `references` on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestReference {
    /// The referenced manifest (`digest`).
    pub digest: Digest,
    /// Its CPU architecture, verbatim (`architecture`, e.g. `amd64`, `arm64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Its operating system, verbatim (`os`, e.g. `linux`, `windows`).
    #[serde(rename = "os", default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
}

/// A manifest's properties. The Go SDK's `ManifestAttributes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestAttributes {
    /// The manifest's digest (`digest`).
    pub digest: Digest,
    /// The size in bytes ACR reports (`imageSize`); it may be 0 for artifacts.
    #[serde(rename = "imageSize", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When the manifest was pushed (`createdTime`).
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub created_on: Option<Timestamp>,
    /// When the manifest last changed (`lastUpdateTime`).
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_on: Option<Timestamp>,
    /// The CPU architecture of an image, verbatim (`architecture`); `None` for an index or an
    /// artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The operating system of an image, verbatim (`os`); `None` for an index or an artifact.
    #[serde(rename = "os", default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// The manifest's media type (`mediaType`).
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The media type of its config blob (`configMediaType`).
    #[serde(
        rename = "configMediaType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub config_media_type: Option<String>,
    /// The tags pointing at it (`tags`; absent or `null` reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
    /// For an index, the manifests it lists with their platforms (`references`).
    #[serde(rename = "references", default, deserialize_with = "null_as_empty")]
    pub related_artifacts: Vec<ManifestReference>,
    /// What may be done with it (`changeableAttributes`).
    #[serde(rename = "changeableAttributes", default)]
    pub changeable_attributes: ChangeableAttributes,
}

/// The answer of `GET /acr/v1/{name}/_manifests/{digest}`: a manifest and where it lives.
/// The Go SDK's `ArtifactManifestProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactManifestProperties {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The manifest (`manifest`).
    pub manifest: ManifestAttributes,
}

/// One page of `GET /acr/v1/{name}/_manifests`. The Go SDK's `Manifests`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestList {
    /// The registry's login server (`registry`).
    #[serde(rename = "registry", default)]
    pub registry_login_server: String,
    /// The repository name (`imageName`).
    #[serde(rename = "imageName", default)]
    pub name: String,
    /// The manifests on this page (`manifests`; `null` reads as empty).
    #[serde(rename = "manifests", default, deserialize_with = "null_as_empty")]
    pub attributes: Vec<ManifestAttributes>,
    /// The next-page link some ACR bodies carry (`link`); the `Link` header is what counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_values() {
        assert_eq!(ArtifactOrder::default(), ArtifactOrder::None);
        for o in [
            ArtifactOrder::None,
            ArtifactOrder::LastUpdatedOnDescending,
            ArtifactOrder::LastUpdatedOnAscending,
        ] {
            assert_eq!(o.to_string().parse::<ArtifactOrder>().unwrap(), o);
        }
        assert_eq!(
            "TimeDesc".parse::<TagOrderBy>().unwrap(),
            ArtifactOrder::LastUpdatedOnDescending
        );
        assert!(matches!(
            "newest".parse::<ManifestOrderBy>(),
            Err(Error::InvalidInput { .. })
        ));
    }

    const TAG_PAGE: &str = r#"{"registry": "paulvaneckcr1.azurecr.io", "imageName": "library/hello-world", "tags": [{"name": "v1", "digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "createdTime": "2024-04-25T02:20:47.9352988Z", "lastUpdateTime": "2024-04-25T02:20:47.9352988Z", "signed": false, "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}, {"name": "latest", "digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "createdTime": "2024-04-25T02:20:47.6995047Z", "lastUpdateTime": "2024-04-25T02:20:47.6995047Z", "signed": false, "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}]}"#;

    #[test]
    fn tag_list_from_recording() {
        let page: TagList = serde_json::from_str(TAG_PAGE).unwrap();
        assert_eq!(page.registry_login_server, "paulvaneckcr1.azurecr.io");
        assert_eq!(page.name, "library/hello-world");
        assert_eq!(page.tags.len(), 2);
        let v1 = &page.tags[0];
        assert_eq!(v1.name, "v1");
        assert_eq!(
            v1.digest.as_str(),
            "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f"
        );
        assert_eq!(v1.signed, Some(false));
        assert!(v1.last_updated_on > page.tags[1].last_updated_on);
        assert_eq!(
            v1.changeable_attributes,
            ChangeableAttributes {
                can_delete: Some(true),
                can_write: Some(true),
                can_list: Some(true),
                can_read: Some(true),
                ..Default::default()
            }
        );
        assert!(page.link.is_none());
    }

    #[test]
    fn tag_properties_from_recording() {
        let body = r#"{"registry": "yallacrtests.azurecr.io", "imageName": "repoa4a73b86", "tag": {"name": "taga4a73b86", "digest": "sha256:6e8b6f026e0b9c419ea0fd02d3905dd0952ad1feea67543f525c73a0a790fefb", "createdTime": "2023-02-19T00:33:07.4948802Z", "lastUpdateTime": "2023-02-19T00:33:07.4948802Z", "signed": false, "changeableAttributes": {"deleteEnabled": false, "writeEnabled": false, "readEnabled": false, "listEnabled": false}}}"#;
        let p: ArtifactTagProperties = serde_json::from_str(body).unwrap();
        assert_eq!(p.registry_login_server, "yallacrtests.azurecr.io");
        assert_eq!(p.name, "repoa4a73b86");
        assert_eq!(p.tag.name, "taga4a73b86");
        assert_eq!(p.tag.changeable_attributes.can_read, Some(false));
        assert_eq!(
            p.tag.created_on.as_ref().unwrap().to_string(),
            "2023-02-19T00:33:07.4948802Z"
        );
    }

    #[test]
    fn manifest_properties_from_recording() {
        let body = r#"{"registry": "paulvaneckcr1anon.azurecr.io", "imageName": "library/hello-world", "manifest": {"digest": "sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f", "imageSize": 12, "createdTime": "2024-04-25T02:20:49.498914Z", "lastUpdateTime": "2024-04-25T02:20:49.498914Z", "mediaType": "application/vnd.oci.image.manifest.v1+json", "configMediaType": "application/vnd.oci.image.config.v1+json", "tags": ["latest", "v1"], "changeableAttributes": {"deleteEnabled": true, "writeEnabled": true, "readEnabled": true, "listEnabled": true}}}"#;
        let p: ArtifactManifestProperties = serde_json::from_str(body).unwrap();
        let m = &p.manifest;
        assert_eq!(m.size, Some(12));
        assert_eq!(
            m.media_type.as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        assert_eq!(
            m.config_media_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert_eq!(m.tags, ["latest", "v1"]);
        assert!(m.related_artifacts.is_empty());
        assert!(m.architecture.is_none() && m.operating_system.is_none());
        assert_eq!(m.changeable_attributes.can_write, Some(true));
    }

    #[test]
    fn manifest_list_with_index_references_and_extra_keys() {
        let body = r#"{"registry":"r.azurecr.io","imageName":"library/alpine","link":"/acr/v1/library%2Falpine/_manifests?last=sha256:x&n=1","manifests":[
            {"digest":"sha256:6e8b6f026e0b9c419ea0fd02d3905dd0952ad1feea67543f525c73a0a790fefb","imageSize":1638,
             "createdTime":"2023-02-19T00:33:07.4948802Z","lastUpdateTime":"2023-02-19T00:33:07.4948802Z",
             "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","tags":null,
             "references":[
               {"digest":"sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af","architecture":"amd64","os":"linux"},
               {"digest":"sha256:432f982638b3aefab73cc58ab28f5c16e96fdb504e8c134fc58dff4bae8bf338","architecture":"riscv128","os":"plan9"}],
             "changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true,
               "quarantineState":"Passed","quarantineDetails":"{\"state\":\"scan passed\"}","somethingNew":{"x":[1]}},
             "newTopLevelKey":42},
            {"digest":"sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af",
             "architecture":"amd64","os":"linux","changeableAttributes":{}}]}"#;
        let page: ManifestList = serde_json::from_str(body).unwrap();
        assert_eq!(page.attributes.len(), 2);
        let index = &page.attributes[0];
        assert!(index.tags.is_empty());
        assert_eq!(index.related_artifacts.len(), 2);
        assert_eq!(
            index.related_artifacts[1].architecture.as_deref(),
            Some("riscv128")
        );
        assert_eq!(
            index.related_artifacts[1].operating_system.as_deref(),
            Some("plan9")
        );
        assert_eq!(
            index.changeable_attributes.quarantine_state.as_deref(),
            Some("Passed")
        );
        assert!(index.changeable_attributes.quarantine_details.is_some());
        let image = &page.attributes[1];
        assert_eq!(image.architecture.as_deref(), Some("amd64"));
        assert_eq!(image.size, None);
        assert_eq!(image.created_on, None);
        assert_eq!(image.changeable_attributes, ChangeableAttributes::default());
        assert!(page.link.is_some());
    }

    #[test]
    fn repository_properties_and_lists() {
        let body = r#"{"registry":"r.azurecr.io","imageName":"hello-world","createdTime":"2021-05-04T11:41:40.4577545Z",
            "lastUpdateTime":"2021-05-04T11:41:41.3120386Z","manifestCount":11,"tagCount":1,
            "changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true,"teleportEnabled":false}}"#;
        let p: RepositoryProperties = serde_json::from_str(body).unwrap();
        assert_eq!(p.registry_login_server, "r.azurecr.io");
        assert_eq!(p.name, "hello-world");
        assert_eq!(p.manifest_count, 11);
        assert_eq!(p.tag_count, 1);
        assert_eq!(p.changeable_attributes.teleport_enabled, Some(false));
        assert!(p.created_on < p.last_updated_on);

        let list: RepositoryList =
            serde_json::from_str(r#"{"repositories": ["library/alpine", "library/busybox"]}"#)
                .unwrap();
        assert_eq!(list.names, ["library/alpine", "library/busybox"]);
        let empty: RepositoryList = serde_json::from_str(r#"{"repositories": null}"#).unwrap();
        assert!(empty.names.is_empty());
        let empty: RepositoryList = serde_json::from_str("{}").unwrap();
        assert!(empty.names.is_empty());

        let del: DeleteRepositoryResult = serde_json::from_str(
            r#"{"manifestsDeleted": ["sha256:40d0cfd0861719208ff9f7747ab3f97844eeca509df705db44a736df863b76af"], "tagsDeleted": ["latest"]}"#,
        )
        .unwrap();
        assert_eq!(del.deleted_manifests.len(), 1);
        assert_eq!(del.deleted_tags, ["latest"]);
    }

    #[test]
    fn missing_required_pieces_fail() {
        assert!(serde_json::from_str::<TagAttributes>(r#"{"name":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<TagAttributes>(r#"{"name":"x","digest":"md5:abc"}"#).is_err()
        );
        assert!(
            serde_json::from_str::<ArtifactTagProperties>(
                r#"{"registry":"r","imageName":"i","tag":{"name":"t","digest":"sha256:a40a15d7a9909805f4e4d0144374026e4641268cfd12001c6ad3ed70749ccd9f","createdTime":"soon"}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn serialises_with_wire_names() {
        let page: TagList = serde_json::from_str(TAG_PAGE).unwrap();
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["registry"], "paulvaneckcr1.azurecr.io");
        assert_eq!(json["imageName"], "library/hello-world");
        assert_eq!(
            json["tags"][0]["createdTime"],
            "2024-04-25T02:20:47.9352988Z"
        );
        assert_eq!(
            json["tags"][0]["changeableAttributes"]["deleteEnabled"],
            true
        );
        assert!(json.get("link").is_none());
        let again: TagList = serde_json::from_value(json).unwrap();
        assert_eq!(again, page);
    }

    #[test]
    fn writeable_properties_send_only_what_is_set() {
        assert_eq!(
            serde_json::to_string(&ManifestWriteableProperties::default()).unwrap(),
            "{}"
        );
        assert!(ManifestWriteableProperties::default().is_empty());
        let all = TagWriteableProperties {
            can_delete: Some(false),
            can_write: Some(false),
            can_list: Some(false),
            can_read: Some(false),
        };
        assert!(!all.is_empty());
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"{"deleteEnabled":false,"writeEnabled":false,"listEnabled":false,"readEnabled":false}"#
        );
        let read = RepositoryWriteableProperties {
            can_read: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"readEnabled":true}"#
        );

        let attrs = ChangeableAttributes {
            can_delete: Some(true),
            can_write: Some(false),
            quarantine_state: Some("Passed".into()),
            ..Default::default()
        };
        let from: ManifestWriteableProperties = (&attrs).into();
        assert_eq!(
            serde_json::to_string(&from).unwrap(),
            r#"{"deleteEnabled":true,"writeEnabled":false}"#
        );
    }
}

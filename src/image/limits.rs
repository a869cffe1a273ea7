//! [`ImageLimits`]: how large an image pull, push or copy accepts, so a hostile index or layout
//! cannot make it fetch or hold without bound.

/// Safety limits of an image transfer ([`pull`](super::pull), [`push`](super::push),
/// [`copy`](super::copy)). An image past one of them fails with
/// [`Error::LimitExceeded`](crate::Error::LimitExceeded) before anything is written. Each
/// manifest is also read up to 4 MiB.
///
/// An index may list indexes (nested indexes), up to `max_depth` levels. A manifest listed many
/// times, at any level, is fetched (and held) once: children are deduplicated by digest before
/// the limits are checked.
///
/// ```
/// use azcontainerregistry::image::{ImageLimits, PullOptions};
/// let options = PullOptions {
///     limits: ImageLimits {
///         max_blobs: 50_000,
///         ..Default::default()
///     },
///     ..Default::default()
/// };
/// assert_eq!(options.limits.max_children, ImageLimits::default().max_children);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLimits {
    /// Entries of an image index (duplicates included). Default 1024.
    pub max_children: usize,
    /// Bytes of all the manifests of one image together (the top one and an index's distinct
    /// children). Default 64 MiB.
    pub max_manifest_bytes: u64,
    /// Distinct blobs (configs and layers) of one image. Default 16384.
    pub max_blobs: usize,
    /// Levels of indexes below the top one (an index whose children are indexes is one level
    /// deep). Default 4; 0 refuses nested indexes.
    pub max_depth: usize,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_children: 1024,
            max_manifest_bytes: 64 * 1024 * 1024,
            max_blobs: 16 * 1024,
            max_depth: 4,
        }
    }
}

//! OCI image layouts on disk: a two-platform image written with the crate's `Layout`, and the blob
//! files of a layout checked against their names.

use std::collections::BTreeSet;
use std::path::Path;

use azcontainerregistry::Digest;
use azcontainerregistry::image::Layout;
use azcontainerregistry::manifest::{
    Descriptor, ImageIndex, ImageManifest, Manifest, Platform, media_type,
};

/// What [`write_two_platform_image`] wrote.
pub struct TwoPlatformImage {
    /// The index, named in index.json.
    pub index: Digest,
    /// (platform, manifest digest) of linux/amd64 then linux/arm64.
    pub children: Vec<(Platform, Digest)>,
    /// The layers and configs (not the manifests), in writing order.
    pub blobs: Vec<Digest>,
    /// Every blob file of the layout (layers, configs, manifests, the index), by hex.
    pub all: BTreeSet<String>,
    /// Per child (same order as `children`): its layers, config and manifest, by hex.
    closures: Vec<BTreeSet<String>>,
}

impl TwoPlatformImage {
    fn position(&self, architecture: &str) -> usize {
        self.children
            .iter()
            .position(|(p, _)| p.architecture == architecture)
            .unwrap_or_else(|| panic!("no {architecture} child"))
    }

    /// The (platform, manifest digest) of the `architecture` child.
    pub fn child(&self, architecture: &str) -> &(Platform, Digest) {
        &self.children[self.position(architecture)]
    }

    /// The blob files (hex) of the `architecture` child alone: layers, config and manifest.
    pub fn closure(&self, architecture: &str) -> &BTreeSet<String> {
        &self.closures[self.position(architecture)]
    }
}

/// Writes a linux/amd64 + linux/arm64 image (each a config and `layers` pseudo-random layers of
/// about `layer_len` bytes; `seed` varies every byte) into a new layout at `dir`, named `name` in
/// index.json.
pub fn write_two_platform_image(
    dir: &Path,
    name: &str,
    layers: usize,
    layer_len: usize,
    seed: u64,
) -> TwoPlatformImage {
    let layout = Layout::create(dir).unwrap();
    let mut built = TwoPlatformImage {
        index: Digest::of(b""),
        children: Vec::new(),
        blobs: Vec::new(),
        all: BTreeSet::new(),
        closures: Vec::new(),
    };
    let mut descriptors = Vec::new();
    for (i, arch) in ["amd64", "arm64"].into_iter().enumerate() {
        let mut closure = BTreeSet::new();
        let mut layer_descs = Vec::new();
        for l in 0..layers {
            let bytes =
                super::pseudo_random(layer_len + l * 7, seed * 1000 + (i * 100 + l) as u64 + 1);
            let d = layout.write_blob_bytes(&bytes).unwrap();
            closure.insert(d.hex().to_string());
            built.blobs.push(d.clone());
            layer_descs.push(Descriptor::new(
                media_type::OCI_LAYER_TAR_GZIP,
                d,
                bytes.len() as u64,
            ));
        }
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"seed":{seed}}}"#
        );
        let cd = layout.write_blob_bytes(config.as_bytes()).unwrap();
        closure.insert(cd.hex().to_string());
        built.blobs.push(cd.clone());
        let m = Manifest::Image(ImageManifest::new(
            Descriptor::new(media_type::OCI_CONFIG, cd, config.len() as u64),
            layer_descs,
        ));
        let bytes = m.to_bytes();
        let md = layout.write_blob_bytes(&bytes).unwrap();
        closure.insert(md.hex().to_string());
        let platform = Platform::new("linux", arch);
        let mut desc = Descriptor::new(media_type::OCI_MANIFEST, md.clone(), bytes.len() as u64);
        desc.platform = Some(platform.clone());
        descriptors.push(desc);
        built.all.extend(closure.iter().cloned());
        built.closures.push(closure);
        built.children.push((platform, md));
    }
    let index = Manifest::Index(ImageIndex::new(descriptors));
    let bytes = index.to_bytes();
    let id = layout.write_blob_bytes(&bytes).unwrap();
    layout
        .add_manifest(
            &Descriptor::new(media_type::OCI_INDEX, id.clone(), bytes.len() as u64),
            Some(name),
        )
        .unwrap();
    built.all.insert(id.hex().to_string());
    built.index = id;
    built
}

/// The blob file names (hex) of the layout at `dir`, each checked to hash to its name.
pub fn verified_blob_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap_or_else(|e| panic!("{}/blobs/sha256: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap();
            assert_eq!(
                super::sha256_hex(&bytes),
                name,
                "blob {name} does not match its name"
            );
            name
        })
        .collect()
}

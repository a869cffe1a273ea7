//! Fuzzes manifest decoding and re-encoding (see `azcontainerregistry::__fuzz::manifest`).
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 6] = [
    "",
    "application/json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.artifact.manifest.v1+json",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the response's Content-Type; the rest is the body.
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(first) % CONTENT_TYPES.len()];
    azcontainerregistry::__fuzz::manifest(content_type, body);
});

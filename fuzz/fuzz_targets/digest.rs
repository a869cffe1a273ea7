//! Fuzzes the digest parser (see `azcontainerregistry::__fuzz::digest` for the invariants checked).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        azcontainerregistry::__fuzz::digest(text);
    }
});

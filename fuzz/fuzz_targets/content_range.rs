//! Fuzzes `Content-Range` and the upload session's `Range` (see
//! `azcontainerregistry::__fuzz::content_range` for the invariants checked).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the offset the caller believes in (0, 1 or large).
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let known = match first % 3 {
        0 => 0,
        1 => 1,
        _ => u64::MAX - u64::from(first),
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        azcontainerregistry::__fuzz::content_range(text, known);
    }
});

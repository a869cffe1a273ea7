//! The table: one misbehaving registry per case, the operation it is met with, how it must end.
//! `kit.rs` holds what the parts share; each other file is one area.

mod auth;
mod blobs;
mod kit;
mod listings;
mod protocol;
mod uploads;

use super::Case;

pub use kit::other_origin;

/// Every case, area by area.
pub fn all() -> impl Iterator<Item = &'static Case> {
    protocol::PROTOCOL
        .iter()
        .chain(listings::LISTINGS)
        .chain(blobs::BLOBS)
        .chain(uploads::UPLOADS)
        .chain(auth::AUTH_CASES)
}

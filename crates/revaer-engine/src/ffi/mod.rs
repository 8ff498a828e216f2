//! The `cxx` bridges to libtorrent: the only place in Revaer with `unsafe`.
//!
//! One bridge per libtorrent area, each with its C++ header in
//! `include/revaer-engine/` and its glue in `cpp/`:
//! - [`session`]: creating the session and applying settings;
//! - [`torrent`]: adding, commanding and querying torrents, and reading or
//!   creating metainfo;
//! - [`alert`]: draining libtorrent's alert queue into plain records;
//! - [`detail`]: a torrent's peers and pieces, its tracker list and its
//!   edge-piece priorities.
//!
//! Every C++ function that can throw is declared `-> Result<..>`, so an
//! exception becomes a `cxx::Exception` instead of `std::terminate`. Plain
//! data crosses as shared structs; the session stays an opaque C++ object
//! behind a `UniquePtr`, created and used on the engine's worker thread only
//! (it is neither `Send` nor `Sync`). There are no `extern "Rust"`
//! callbacks: Rust polls for alerts.
#![allow(unsafe_code)]
// The cxx-generated code spells out paths that the lints would shorten.
#![allow(unused_qualifications, clippy::pedantic)]

pub(crate) mod alert;
pub(crate) mod detail;
pub(crate) mod session;
pub(crate) mod torrent;

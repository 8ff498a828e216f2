//! Pure types shared by every Revaer crate.
//!
//! `revaer-domain` is the bottom of the dependency graph: the engine, the
//! store, FsOps and the API DTOs all speak in these types. It does no IO and
//! needs no async runtime, so every rule here is checked by plain unit tests.
//!
//! # Layout
//! - [`access`]: what an API key may do ([`Scope`], [`Scopes`]).
//! - [`info_hash`]: the torrent identity ([`InfoHash`]), hex on the wire.
//! - [`magnet`]: validated magnet URIs ([`MagnetUri`]).
//! - [`torrent`]: lifecycle state, summaries and detail views, rate limits.
//! - [`peer`]: a torrent's peers and its pieces.
//! - [`mod@file`]: files inside a torrent and their priorities.
//! - [`selection`]: include/exclude globs, the skip-fluff preset and per-file
//!   priorities, compiled once and evaluated against a file list.
//! - [`event`]: every event, typed: what the engine ([`EngineEvent`]) and
//!   post-processing ([`FsopsEvent`]) report, the daemon's own, and the one
//!   [`Event`] enum the bus wraps in a [`StreamEvent`].
//! - [`fsops`]: post-processing steps and their outcomes.
//! - [`health`]: component health ([`HealthStatus`], [`ComponentHealth`]).
//! - [`settings`]: the settings documents and changesets.
//! - [`share`]: share limits (ratio, seeding time, inactivity) and their
//!   inheritance from torrent to category to global.
//! - [`text`]: the one rule for free text (labels, filters) and its pattern.
//!
//! # Quick start
//! ```
//! use revaer_domain::{InfoHash, MagnetUri, SelectionRules};
//!
//! let magnet = MagnetUri::parse(
//!     "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=demo",
//! )?;
//! let id: InfoHash = magnet.info_hash();
//! assert_eq!(id.to_string(), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
//!
//! let rules = SelectionRules { skip_fluff: true, ..SelectionRules::default() };
//! let selection = rules.compile()?;
//! let wanted = selection.evaluate(&["Movie/movie.mkv", "Movie/Sample/sample.mkv"])?;
//! assert!(wanted[0].is_wanted() && !wanted[1].is_wanted());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod event;
pub mod file;
pub mod fsops;
pub mod health;
pub mod info_hash;
pub mod magnet;
pub mod peer;
pub mod selection;
pub mod settings;
pub mod share;
pub mod text;
pub mod torrent;

pub use access::{Scope, Scopes, UnknownScope};
pub use event::{EngineEvent, Event, FsopsEvent, StreamEvent};
pub use file::{ContentLayout, FileEntry, FilePriority};
pub use health::{Component, ComponentHealth, HealthStatus};
pub use info_hash::{InfoHash, InfoHashError};
pub use magnet::{MagnetError, MagnetUri};
pub use peer::{PeerConnection, PeerEntry, PeerFlags, PeerSource, PieceMap, PieceState};
pub use selection::{CompiledSelection, PriorityOverride, SelectionError, SelectionRules};
pub use share::{Limit, Ratio, ShareAction, ShareLimits};
pub use torrent::{
    RateLimit, TorrentDetail, TorrentLabels, TorrentState, TorrentSummary, TrackerEdit,
    TrackerEntry, TrackerReplace, TrackerSpec, TrackerStatus,
};

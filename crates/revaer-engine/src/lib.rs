//! Revaer's BitTorrent engine: a libtorrent-rasterbar session driven from
//! Rust.
//!
//! One worker thread owns the session ([`WORKER.md`](https://github.com/revaer/revaer/blob/main/crates/revaer-engine/WORKER.md)
//! has the invariants). Callers hold an [`Engine`], a cheap async handle:
//! commands go to the worker over a channel and every one of them is
//! answered (nothing is fire-and-forget); the torrent list and health are
//! read from a snapshot the worker publishes; events arrive on a bounded
//! broadcast channel that never blocks the worker.
//!
//! Every torrent survives restarts and `kill -9`: its record and metainfo
//! are written to the resume directory before the add is acknowledged, and
//! libtorrent's fast-resume data is saved as it progresses.
//!
//! # Layout
//! - [`Engine`] (`handle.rs`): the async API.
//! - `worker/`: the thread that owns the session; command handlers,
//!   alert translation and restore.
//! - [`config`]: [`EngineConfig`] and the runtime-changeable [`SessionConfig`].
//! - `resume.rs`: the resume directory and its atomic writes.
//! - [`metainfo`]: reading and creating `.torrent` files.
//! - `ffi/`: the `cxx` bridges (the only `unsafe` in Revaer).
//!
//! # Quick start
//! ```no_run
//! use revaer_domain::MagnetUri;
//! use revaer_engine::{AddTorrentOptions, Engine, EngineConfig, SessionConfig, TorrentSource};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let session = SessionConfig { download_dir: "/srv/downloads".into(), ..SessionConfig::default() };
//! let engine = Engine::start(EngineConfig::new("/srv/revaer/resume".into(), session)).await?;
//! let magnet = MagnetUri::parse("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a")?;
//! let added = engine.add(TorrentSource::Magnet(magnet), AddTorrentOptions::default()).await?;
//! println!("{} is {:?}", added.summary().id, added.summary().state);
//! engine.shutdown().await?;
//! # Ok(())
//! # }
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod command;
pub mod config;
mod error;
mod ffi;
mod handle;
pub mod metainfo;
mod owned;
mod resume;
mod shared;
mod torrents;
mod worker;

pub use command::{AddOutcome, AddTorrentOptions, QueueMove, TorrentSource};
pub use config::{DiskBackend, EncryptionPolicy, EngineConfig, SessionConfig};
pub use error::{EngineError, Result};
pub use handle::Engine;
pub use shared::{EngineHealth, Facets};

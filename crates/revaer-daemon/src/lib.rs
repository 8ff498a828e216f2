//! Revaer's daemon, `revaerd`: the composition root. It reads the
//! environment and flags, opens the store, starts the engine, the FsOps
//! orchestrator and the API, and shuts them down in order.
//!
//! # Layout
//! - [`config`]: flags and environment (`revaerd --help`).
//! - [`app`]: the composition root (store → engine → orchestrator → API;
//!   setup mode; `init`; ordered shutdown).
//! - [`orchestrator`]: completed torrents become FsOps jobs, run by a
//!   bounded pool of workers with leases, retries and back-off.
//!
//! # Quick start
//! ```no_run
//! # async fn demo(store: revaer_store::Store, engine: revaer_engine::Engine,
//! #               pipeline: revaer_fsops::Pipeline) {
//! use revaer_daemon::orchestrator::{Orchestrator, OrchestratorConfig};
//! let orchestrator = Orchestrator::start(store, engine, pipeline, OrchestratorConfig::default()).await;
//! let mut events = orchestrator.subscribe();
//! while let Ok(event) = events.recv().await {
//!     println!("{}: {:?}", event.kind(), event.torrent());
//! }
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod orchestrator;

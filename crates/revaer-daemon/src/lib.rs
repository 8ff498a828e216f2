//! Revaer's daemon, `revaerd`: the composition root. It reads the
//! environment and flags, opens the store, starts the engine, the FsOps
//! orchestrator and the API, and shuts them down in order.
//!
//! # Layout
//! - [`config`]: flags and environment (`revaerd --help`).
//! - [`app`]: the composition root (store → engine → bus → orchestrator →
//!   service → API, and the background loops; setup mode; `init`; ordered
//!   shutdown).
//! - [`orchestrator`]: follows the bus, keeping the torrent catalogue and
//!   turning completed torrents into FsOps jobs, run by a bounded pool of
//!   workers with leases, retries and back-off.
//!
//! # Quick start
//! ```no_run
//! # async fn demo(store: revaer_store::Store, engine: revaer_engine::Engine,
//! #               pipeline: revaer_fsops::Pipeline) {
//! use revaer_daemon::orchestrator::{Orchestrator, OrchestratorConfig};
//! use revaer_service::bus::EventBus;
//! use revaer_service::forward::{EventSources, forward_events};
//! let bus = EventBus::new(4096);
//! let engine_events = engine.subscribe();
//! let config = OrchestratorConfig::default();
//! let orchestrator =
//!     Orchestrator::start(store, engine, pipeline, config, bus.subscribe(None).live).await;
//! tokio::spawn(forward_events(bus.clone(), EventSources::engine(engine_events)));
//! let mut events = orchestrator.subscribe();
//! while let Ok(event) = events.recv().await {
//!     println!("FsOps: {:?}", event.torrent());
//! }
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod orchestrator;

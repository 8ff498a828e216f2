//! Revaer's HTTP API vocabulary, shared by the server (`revaer-api`) and
//! the CLI (`revaer`): request and response types, Problem+JSON, list
//! queries and their cursors. Serde types only; no server framework.
//!
//! # Layout
//! - [`problem`]: RFC 9457 problem documents.
//! - [`list`]: the torrent list query, its validation and its pages.
//! - [`cursor`]: opaque keyset cursors.
//! - [`events`]: the event stream's records.
//! - [`health`]: liveness and the full health report.
//! - [`setup`]: completing setup.
//! - [`keys`]: API keys as listed and as issued.
//! - [`torrent`]: add, action and selection requests; the detail view.
//! - [`transfer`]: global rates, totals and caps.
//!
//! # Quick start
//! ```
//! use revaer_api_models::list::ListQuery;
//! let query = ListQuery::parse("limit=10&sort=name&state=seeding,paused").expect("valid");
//! assert_eq!(query.limit, 10);
//! let errors = ListQuery::parse("limit=0&colour=red").expect_err("invalid");
//! assert_eq!(errors[0].pointer, "/query/limit");
//! assert_eq!(errors[1].pointer, "/query/colour");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cursor;
pub mod events;
pub mod health;
pub mod keys;
pub mod list;
pub mod problem;
pub mod setup;
pub mod torrent;
pub mod transfer;

pub use list::{ListQuery, Order, SortKey, TorrentPage};
pub use problem::{InvalidParam, PROBLEM_CONTENT_TYPE, Problem};
pub use torrent::{
    AddTorrentRequest, PeerList, SelectRequest, SelectResult, TorrentAction, TorrentView,
};
pub use transfer::{TransferLimits, TransferStats};

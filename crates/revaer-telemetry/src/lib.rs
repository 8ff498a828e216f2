//! Revaer's telemetry vocabulary.
//!
//! Every metric Revaer records is named here, once, so that the crates that
//! record them (FsOps, the engine glue, the API) and the dashboards that read
//! them agree. Recording goes through the [`metrics`](https://docs.rs/metrics)
//! facade; the daemon installs the Prometheus exporter.
//!
//! # Layout
//! - [`names`]: metric names and label keys.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod names;

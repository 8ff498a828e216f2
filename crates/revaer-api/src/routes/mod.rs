//! The routes, one module per group.

pub mod config;
pub mod events;
pub mod health;
pub mod keys;
pub mod setup;
pub mod torrents;
pub mod transfer;

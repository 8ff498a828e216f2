//! The routes, one module per group.

pub mod health;
pub mod torrents;

//! One module per group of commands.

pub mod admin;
pub mod follow;
pub mod tail;
pub mod torrents;

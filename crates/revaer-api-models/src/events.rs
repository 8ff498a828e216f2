//! `GET /v1/events`: the server-sent event stream's records.
//!
//! Each frame's `data:` is a [`StreamEvent`] (its `id:` and `event:`
//! repeat the envelope's `id` and the event's `type`). The types live in
//! `revaer-domain`, where the engine, FsOps and the daemon build them; they
//! are re-exported here for clients.

pub use revaer_domain::event::{Event, StreamEvent};

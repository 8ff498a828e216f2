//! What the OpenAPI document states about requests and answers, beyond
//! the DTOs' own schemas: the shared problem answers, the query
//! parameters with the bounds the handlers enforce, and the event stream's
//! frames. Routes refer to these;
//! the OpenAPI document is built from the routes.

pub mod params;
pub mod problems;
pub mod sse;

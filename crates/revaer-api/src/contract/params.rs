//! Query parameters as the OpenAPI document states them, with the bounds,
//! patterns and enums the handlers enforce (the handlers parse the raw
//! query themselves, to answer every problem with its pointer; these types
//! only describe it).
#![allow(dead_code, reason = "parameter types for the OpenAPI document only")]

use revaer_api_models::events::Event;
use revaer_api_models::list::{DEFAULT_LIMIT, MAX_LIMIT};
use revaer_api_models::{Order, SortKey};
use revaer_domain::TorrentState;
use utoipa::IntoParams;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};

/// Text of 1 to `max` characters, none a control character, not blank.
pub(crate) fn text(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
}

/// The text rule as a pattern (see `revaer_domain::text`).
pub use revaer_domain::text::TEXT_PATTERN;

/// An info-hash as paths and filters take it: 40 hex digits (either case)
/// or 32 base32 letters (the path parameters repeat it as a literal).
pub(crate) const INFO_HASH_INPUT: &str = "^([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$";

fn info_hash_input() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(INFO_HASH_INPUT))
}

fn tags() -> Schema {
    ArrayBuilder::new().items(text(128)).max_items(Some(32)).into()
}

fn category() -> Schema {
    text(128).into()
}

fn tracker() -> Schema {
    text(253).into()
}

fn name() -> Schema {
    text(256).into()
}

fn extension() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^\.?[A-Za-z0-9]{1,16}$")).into()
}

fn event_types() -> Schema {
    let kind =
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(Event::KINDS.to_vec()));
    ArrayBuilder::new().items(kind).max_items(Some(32)).into()
}

fn torrents() -> Schema {
    ArrayBuilder::new().items(info_hash_input()).max_items(Some(100)).into()
}

/// `GET /v1/torrents`. Parameters are each given once, but for `state`
/// and `tag`, which repeat; unknown parameters are refused.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<u32>,
    /// The previous page's `next_cursor` (with the same sort and filters).
    #[param(min_length = 1, max_length = 1024)]
    cursor: Option<String>,
    /// Sort key (default `added_at`).
    #[param(inline)]
    sort: Option<SortKey>,
    /// `asc` (default) or `desc`.
    #[param(inline)]
    order: Option<Order>,
    /// Any of these states (repeat the parameter, or give a comma list).
    #[param(style = Form, explode, inline)]
    state: Option<Vec<TorrentState>>,
    /// This category.
    #[param(schema_with = category)]
    category: Option<String>,
    /// Tags; all must match (repeat the parameter).
    #[param(style = Form, explode, schema_with = tags)]
    tag: Option<Vec<String>>,
    /// A tracker whose host contains this (case-insensitive).
    #[param(schema_with = tracker)]
    tracker: Option<String>,
    /// A file with this extension (with or without the dot).
    #[param(schema_with = extension)]
    extension: Option<String>,
    /// A name containing this, case-insensitively.
    #[param(schema_with = name)]
    name: Option<String>,
}

/// `GET /v1/events`. Lists may repeat the parameter or be comma lists.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// Only events about these torrents (at most 100).
    #[param(style = Form, explode, schema_with = torrents)]
    torrent: Option<Vec<String>>,
    /// Only these event types.
    #[param(rename = "type", style = Form, explode, schema_with = event_types)]
    kind: Option<Vec<String>>,
    /// Only state changes into these states.
    #[param(style = Form, explode, inline)]
    state: Option<Vec<TorrentState>>,
    /// Resume after this id (or send `Last-Event-ID`).
    last_event_id: Option<u64>,
}

// The bounds written in `ListParams`' attributes are these constants.
const _: () = assert!(DEFAULT_LIMIT == 100 && MAX_LIMIT == 1000);

//! The event stream's frames as the OpenAPI document states them: a
//! `text/event-stream` response's schema describes one frame (`id`,
//! `event`, `data`), whose `data` is JSON holding a `StreamEvent`.

use revaer_api_models::events::Event;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// One Server-Sent-Events frame of `GET /v1/events`.
#[derive(Debug)]
pub struct EventFrame;

impl utoipa::PartialSchema for EventFrame {
    fn schema() -> RefOr<Schema> {
        let id = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]+$"))
            .description(Some("The event's id (also in the envelope)."));
        let event = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Event::KINDS.to_vec()))
            .description(Some("The event's type (also in the envelope)."));
        // JSON Schema 2020-12's `contentSchema`: what the string holds.
        let holds =
            [("contentSchema", serde_json::json!({"$ref": "#/components/schemas/StreamEvent"}))];
        let data = ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/json")
            .extensions(Some(Extensions::from_iter(holds)))
            .description(Some("The event: a `StreamEvent` as JSON."));
        ObjectBuilder::new()
            .property("id", id)
            .property("event", event)
            .property("data", data)
            .required("data")
            .description(Some("One frame of the event stream; `data` holds a `StreamEvent`."))
            .into()
    }
}

impl utoipa::ToSchema for EventFrame {}

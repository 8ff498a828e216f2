//! `GET /v1/events`: Server-Sent Events with filters, `Last-Event-ID`
//! replay and `resync`.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use common::Api;
use http_body_util::BodyExt;
use revaer_domain::event::{Completed, EventSource, EventsDropped, Progress, StateChanged};
use revaer_domain::{Event, InfoHash, TorrentState};
use tower::ServiceExt;

const TORRENT: InfoHash = InfoHash::from_bytes([9; 20]);

fn changed(from: TorrentState, to: TorrentState) -> Event {
    Event::StateChanged(StateChanged { torrent: TORRENT, from, to })
}

fn progress() -> Event {
    Event::Progress(Progress {
        torrent: TORRENT,
        progress: 0.5,
        bytes_done: 1,
        bytes_wanted: 2,
        download_bps: 1,
        upload_bps: 0,
        eta_secs: Some(1),
    })
}

/// Opens the stream and reads it until `done` accepts the text so far.
async fn read_stream(
    api: &Api,
    uri: &str,
    last_id: Option<u64>,
    done: impl Fn(&str) -> bool,
    publish: impl FnOnce(),
) -> String {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header("authorization", format!("Bearer {}", api.token));
    if let Some(id) = last_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = api
        .router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    publish();
    let mut body = response.into_body();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&text) {
        let frame =
            tokio::time::timeout_at(deadline, body.frame()).await.expect("events arrive in time");
        let frame = frame.expect("stream open").expect("frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}

fn ids(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn a_client_resumes_after_its_last_id_and_sees_live_events() {
    let api = Api::start().await;
    let first = api.events.publish(changed(TorrentState::Queued, TorrentState::Downloading));
    let second = api.events.publish(progress());
    // A command on the torrent: what follows carries its trace id.
    api.events.note_trace(TORRENT, "t-1".into());
    let third = api.events.publish(changed(TorrentState::Downloading, TorrentState::Seeding));
    let bus = api.events.clone();
    let text = read_stream(
        &api,
        "/v1/events",
        Some(first),
        |t| ids(t).len() >= 3,
        move || {
            let done = Completed { torrent: TORRENT, name: "x".into(), content_path: "/x".into() };
            bus.publish(Event::Completed(done));
        },
    )
    .await;
    let seen = ids(&text);
    assert_eq!(&seen[..2], &[second, third], "exactly what was missed, in order");
    assert_eq!(seen[2], third + 1, "then live");
    assert!(text.contains("retry: 3000"));
    assert!(text.contains("event: state_changed"));
    assert!(text.contains("\"trace_id\":\"t-1\""));
    // Each frame's data is the typed envelope.
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).expect("a frame");
    let envelope: revaer_domain::StreamEvent = serde_json::from_str(data).expect("typed");
    assert_eq!(envelope.id, second);
    assert_eq!(envelope.event, progress());
    // Filters: state changes to seeding only.
    let bus = api.events.clone();
    let filtered = read_stream(
        &api,
        "/v1/events?type=state_changed&state=seeding",
        Some(first),
        |t| !ids(t).is_empty(),
        move || {
            bus.publish(progress());
        },
    )
    .await;
    assert_eq!(ids(&filtered), [third]);
    // Lost events reach every stream, whatever it filters on.
    let bus = api.events.clone();
    let other = InfoHash::from_bytes([1; 20]).to_hex();
    let lost = read_stream(
        &api,
        &format!("/v1/events?type=completed&torrent={other}"),
        None,
        |t| t.contains("event: events_dropped"),
        move || {
            let dropped = EventsDropped { source: EventSource::Engine, missed: 3 };
            bus.publish(Event::EventsDropped(dropped));
        },
    )
    .await;
    assert!(lost.contains("\"missed\":3"), "{lost}");
    api.stop().await;
}

#[tokio::test]
async fn an_unknown_last_id_gets_a_resync_first() {
    let api = Api::start().await;
    let before = api.events.publish(progress());
    let bus = api.events.clone();
    let text = read_stream(
        &api,
        "/v1/events",
        Some(5),
        |t| t.contains("event: resync") && ids(t).len() >= 2,
        move || {
            bus.publish(progress());
        },
    )
    .await;
    let resync = text.find("event: resync").expect("resync");
    let live = text.find("event: progress").expect("live event");
    assert!(resync < live, "resync comes first");
    // The resync frame carries the newest id, so a client that stores it
    // resumes right there; the live event comes after it.
    let ids = ids(&text);
    assert_eq!(ids[0], before, "{text}");
    assert!(ids[1] > before);
    api.stop().await;
}

#[tokio::test]
async fn bad_event_queries_are_problems() {
    let api = Api::start().await;
    let pointers = api
        .call(Method::GET, "/v1/events?state=flying&torrent=xyz&colour=1&type=explosion", None)
        .await
        .problem(400);
    assert_eq!(pointers, ["/query/state", "/query/torrent", "/query/colour", "/query/type"]);
    let request = Request::builder()
        .uri("/v1/events")
        .header("authorization", format!("Bearer {}", api.token))
        .header("last-event-id", "yesterday")
        .body(Body::empty())
        .expect("request");
    assert_eq!(api.raw(request).await.problem(400), ["/headers/last-event-id"]);
    api.send(Method::GET, "/v1/events", None, None).await.problem(401);
    api.stop().await;
}

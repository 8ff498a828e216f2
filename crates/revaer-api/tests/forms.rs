//! `POST /v1/torrents` as a multipart form, and request tracing, through
//! the real router over a real engine and store.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{Api, payload};
use revaer_api::state::ApiLimits;

const BOUNDARY: &str = "revaer-test-boundary";

/// A multipart body: text parts, then the file part if any.
fn form(texts: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(bytes) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"torrent\"; filename=\"x.torrent\"\r\n\
                 Content-Type: application/x-bittorrent\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post_form(api: &Api, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/torrents")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(Body::from(body))
        .expect("request")
}

fn torrent_bytes(api: &Api, name: &str) -> Vec<u8> {
    data_encoding::BASE64.decode(payload(api.dir.path(), name).as_bytes()).expect("base64")
}

#[tokio::test]
async fn a_form_with_a_torrent_file_adds_it_with_its_fields() {
    let api = Api::start().await;
    let bytes = torrent_bytes(&api, "formed");
    let texts = [("category", "tv"), ("tags", "hd, new"), ("paused", "true")];
    let reply = api.raw(post_form(&api, form(&texts, Some(&bytes)))).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["name"], "formed");
    assert_eq!(reply.json["category"], "tv");
    assert_eq!(reply.json["tags"], serde_json::json!(["hd", "new"]));
    assert_eq!(reply.json["state"], "paused");
    // The same file again: the existing torrent, 200.
    let again = api.raw(post_form(&api, form(&[], Some(&bytes)))).await;
    assert_eq!(again.status, 200, "{}", again.json);
    let id: revaer_domain::InfoHash = reply.json["id"].as_str().expect("id").parse().expect("hash");
    assert_eq!(
        api.engine.summary(id).expect("in the engine").labels.category.as_deref(),
        Some("tv")
    );
    api.stop().await;
}

#[tokio::test]
async fn bad_forms_answer_problems_and_add_nothing() {
    let limits = ApiLimits { torrent_file: 128, ..ApiLimits::default() };
    let api = Api::start_with(limits).await;
    let bytes = torrent_bytes(&api, "big");
    assert!(bytes.len() > 128, "the test torrent passes the guard");
    let too_big = api.raw(post_form(&api, form(&[], Some(&bytes)))).await;
    too_big.problem(413);
    assert_eq!(too_big.headers["connection"], "close", "the rest of the upload is not read");
    // The same guard holds for a base64 `.torrent` in JSON.
    let metainfo = data_encoding::BASE64.encode(&bytes);
    api.call(Method::POST, "/v1/torrents", Some(serde_json::json!({"metainfo": metainfo})))
        .await
        .problem(413);
    let pointers = api
        .raw(post_form(
            &api,
            form(&[("colour", "red"), ("paused", "maybe"), ("content_layout", "flat")], Some(b"x")),
        ))
        .await
        .problem(400);
    assert_eq!(pointers, ["/colour", "/paused", "/content_layout"]);
    let magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
    let two = api.raw(post_form(&api, form(&[("magnet", magnet)], Some(b"d4:infode")))).await;
    assert_eq!(two.problem(400), ["/torrent"]);
    let garbage = api.raw(post_form(&api, form(&[], Some(b"not bencode")))).await;
    assert_eq!(garbage.problem(400), ["/torrent"], "the file part is named");
    // A form cut short.
    let mut cut = form(&[("category", "tv")], None);
    cut.truncate(cut.len() - 10);
    api.raw(post_form(&api, cut)).await.problem(400);
    let too_many: Vec<(&str, &str)> = (0..65).map(|_| ("tags", "x")).collect();
    api.raw(post_form(&api, form(&too_many, None))).await.problem(400);
    assert!(api.engine.list().is_empty(), "nothing was added");
    api.stop().await;
}

#[tokio::test]
async fn requests_carry_trace_and_request_ids_into_problems_and_events() {
    let api = Api::start().await;
    // A client's traceparent and request id come back, and the problem
    // names the trace.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let request = Request::builder()
        .uri("/v1/torrents/nope")
        .header("authorization", format!("Bearer {}", api.token))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .header("x-request-id", "req-42")
        .body(Body::empty())
        .expect("request");
    let reply = api.raw(request).await;
    reply.problem(400);
    assert_eq!(reply.json["trace_id"], trace);
    assert_eq!(reply.headers["x-request-id"], "req-42");
    // Without them: new ids, the request id being the trace id.
    let reply = api.send(Method::GET, "/v1/nowhere", None, None).await;
    reply.problem(404);
    let trace_id = reply.json["trace_id"].as_str().expect("a trace id").to_owned();
    assert_eq!(trace_id.len(), 32);
    assert_eq!(reply.headers["x-request-id"].to_str().expect("ascii"), trace_id);

    // An add: its trace id is carried by the events the add causes (the
    // catalogue stores it from `torrent_added`).
    let mut events = api.events.subscribe(None).live;
    let metainfo = payload(api.dir.path(), "traced");
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/torrents")
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .body(Body::from(serde_json::json!({"metainfo": metainfo, "paused": true}).to_string()))
        .expect("request");
    let reply = api.raw(request).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let id: revaer_domain::InfoHash = reply.json["id"].as_str().expect("id").parse().expect("hash");
    // The API answers from the engine alone: no torrent row is written.
    assert!(api.store.torrent(id).await.expect("read").is_none());
    let published = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let bus = events.recv().await.expect("bus event");
            if bus.torrent == Some(id) && matches!(bus.event, revaer_domain::Event::TorrentAdded(_))
            {
                return bus;
            }
        }
    })
    .await
    .expect("an event about the torrent in time");
    assert_eq!(published.trace_id.as_deref(), Some(trace));
    api.stop().await;
}

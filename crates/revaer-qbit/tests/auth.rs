//! Logging in and who may do what, as qBittorrent's clients expect it.

mod common;

use axum::http::{Method, StatusCode};
use common::Facade;
use revaer_domain::{Scope, Scopes};

#[tokio::test]
async fn a_key_logs_in_and_its_session_works_until_the_key_is_revoked() {
    let facade = Facade::start().await;
    // No session: 403 everywhere but login, as Sonarr's probe expects.
    for path in ["/api/v2/app/webapiVersion", "/api/v2/app/version", "/api/v2/torrents/info"] {
        assert_eq!(
            facade.send(Method::GET, path, &[], "").await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Bad credentials: 200 `Fails.`, no cookie.
    let bad =
        facade.send(Method::POST, "/api/v2/auth/login", &[], "username=admin&password=nope").await;
    assert_eq!((bad.status, bad.text.as_str()), (StatusCode::OK, "Fails."));
    assert!(bad.sid().is_none());
    // The key as the password (any username): `Ok.` and one SID cookie.
    let reply = facade
        .send(
            Method::POST,
            "/api/v2/auth/login",
            &[],
            &format!("username=whoever&password={}", facade.token),
        )
        .await;
    assert_eq!((reply.status, reply.text.as_str()), (StatusCode::OK, "Ok."));
    assert!(reply.headers["content-type"].to_str().expect("text").starts_with("text/plain"));
    let cookie = reply.headers["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(
        cookie.starts_with("SID=") && cookie.contains("HttpOnly") && cookie.contains("path=/"),
        "{cookie}"
    );
    assert!(cookie.contains("SameSite=Strict") && !cookie.contains("Max-Age"), "{cookie}");
    let sid = reply.sid().expect("sid");
    let version = facade.with(&sid, Method::GET, "/api/v2/app/version", "").await;
    assert_eq!(version.text, "v5.0.5");
    let api = facade.with(&sid, Method::POST, "/api/v2/app/webapiVersion", "").await;
    assert_eq!(api.text, "2.11.2", "three parts");
    assert_eq!(
        facade.with(&sid, Method::HEAD, "/api/v2/app/version", "").await.status,
        StatusCode::OK
    );
    // A client that echoes the whole Set-Cookie string still gets in.
    let echoed =
        facade.send(Method::GET, "/api/v2/app/version", &[("cookie", cookie.as_str())], "").await;
    assert_eq!(echoed.status, StatusCode::OK);
    // Logging in again with a live session keeps it: no new cookie.
    let again = facade
        .send(
            Method::POST,
            "/api/v2/auth/login",
            &[("cookie", &format!("SID={sid}"))],
            &format!("password={}", facade.token),
        )
        .await;
    assert_eq!(again.text, "Ok.");
    assert!(again.sid().is_none());
    // Revoking the key ends its session at once.
    let key_id = facade.service.list_keys().await.expect("keys")[0].key_id.clone();
    facade.store.revoke_api_key(&key_id).await.expect("revoke");
    facade.service.keys().refresh(&facade.store).await.expect("reload");
    assert_eq!(
        facade.with(&sid, Method::GET, "/api/v2/app/version", "").await.status,
        StatusCode::FORBIDDEN
    );
    facade.stop().await;
}

#[tokio::test]
async fn bearer_and_basic_keys_work_without_a_session() {
    let facade = Facade::start().await;
    let bearer = format!("Bearer {}", facade.token);
    let reply =
        facade.send(Method::GET, "/api/v2/app/version", &[("authorization", &bearer)], "").await;
    assert_eq!(reply.status, StatusCode::OK);
    let basic = data_encoding::BASE64.encode(format!("admin:{}", facade.token).as_bytes());
    let basic = format!("Basic {basic}");
    let reply =
        facade.send(Method::GET, "/api/v2/app/version", &[("authorization", &basic)], "").await;
    assert_eq!(reply.status, StatusCode::OK);
    let wrong = data_encoding::BASE64.encode(b"admin:wrong");
    let wrong = format!("Basic {wrong}");
    let reply =
        facade.send(Method::GET, "/api/v2/app/version", &[("authorization", &wrong)], "").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A proxy's own Basic login beside a session: the session decides.
    let sid = facade.login(&facade.token).await;
    let cookie = format!("SID={sid}");
    let both = [("authorization", wrong.as_str()), ("cookie", cookie.as_str())];
    assert_eq!(
        facade.send(Method::GET, "/api/v2/app/version", &both, "").await.status,
        StatusCode::OK
    );
    facade.stop().await;
}

#[tokio::test]
async fn five_failed_logins_ban_the_address() {
    let facade = Facade::start().await;
    for _ in 0..5 {
        let reply = facade.send(Method::POST, "/api/v2/auth/login", &[], "password=wrong").await;
        assert_eq!(reply.text, "Fails.");
    }
    let banned = facade
        .send(Method::POST, "/api/v2/auth/login", &[], &format!("password={}", facade.token))
        .await;
    assert_eq!(banned.status, StatusCode::FORBIDDEN, "even with the right key: {}", banned.text);
    assert!(banned.text.contains("banned"));
    facade.stop().await;
}

#[tokio::test]
async fn scopes_methods_and_cross_site_requests_are_checked() {
    let facade = Facade::start().await;
    let reader = facade.key(Scopes::of(&[Scope::Read])).await;
    let sid = facade.login(&reader).await;
    assert_eq!(
        facade.with(&sid, Method::GET, "/api/v2/torrents/info", "").await.status,
        StatusCode::OK
    );
    let add = facade
        .with(
            &sid,
            Method::POST,
            "/api/v2/torrents/add",
            "urls=magnet%3A%3Fxt%3Durn%3Abtih%3A0123456789abcdef0123456789abcdef01234567",
        )
        .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN, "a read key adds nothing: {}", add.text);
    assert!(add.text.contains("control"), "{}", add.text);
    assert!(facade.engine.list().is_empty());
    // Mutators need POST.
    let admin = facade.login(&facade.token).await;
    let get = facade.with(&admin, Method::GET, "/api/v2/torrents/delete?hashes=all", "").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    // Another site's page is refused; a same-origin page and an API
    // client (neither header) pass.
    let cookie = format!("SID={admin}");
    let evil = [
        ("cookie", cookie.as_str()),
        ("host", "127.0.0.1:7070"),
        ("origin", "http://evil.example"),
    ];
    assert_eq!(
        facade.send(Method::GET, "/api/v2/app/version", &evil, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let same = [
        ("cookie", cookie.as_str()),
        ("host", "127.0.0.1:7070"),
        ("referer", "http://127.0.0.1:7070/"),
    ];
    assert_eq!(
        facade.send(Method::GET, "/api/v2/app/version", &same, "").await.status,
        StatusCode::OK
    );
    // Logging out ends the session.
    facade.with(&admin, Method::POST, "/api/v2/auth/logout", "").await;
    assert_eq!(
        facade.with(&admin, Method::GET, "/api/v2/app/version", "").await.status,
        StatusCode::FORBIDDEN
    );
    facade.stop().await;
}

//! `app/setPreferences` through the facade: the whole object posted back
//! unchanged writes nothing, rate caps need `control`, the rest `admin`.

mod common;

use axum::http::{Method, StatusCode};
use common::Facade;
use revaer_domain::{Scope, Scopes};

async fn set(facade: &Facade, sid: String, body: String) -> StatusCode {
    facade.with(&sid, Method::POST, "/api/v2/app/setPreferences", &body).await.status
}

fn form(prefs: &serde_json::Value) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("json", &prefs.to_string()).finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_change_settings_within_the_keys_scope() {
    let facade = Facade::start().await;
    let control = facade.login(&facade.key(Scopes::of(&[Scope::Control])).await).await;
    let before = facade.service.settings().await.expect("settings").revision;
    let prefs = facade.with(&control, Method::GET, "/api/v2/app/preferences", "").await.json();
    assert_eq!(
        set(&facade, control.clone(), form(&prefs)).await,
        StatusCode::OK,
        "posted back whole"
    );
    let after = facade.service.settings().await.expect("settings");
    assert_eq!(after.revision, before, "nothing changed, nothing written");

    // A port neither shown nor saved: an engine setting, for admin keys.
    let port = serde_json::json!({"listen_port": 51_999});
    assert_eq!(set(&facade, control.clone(), form(&port)).await, StatusCode::FORBIDDEN);
    let caps = serde_json::json!({"dl_limit": 2048, "up_limit": 0, "locale": "fr"});
    assert_eq!(set(&facade, control.clone(), form(&caps)).await, StatusCode::OK);
    let saved = facade.service.settings().await.expect("settings").settings.engine_profile;
    assert_eq!(saved.download_limit_bps, Some(2048));
    assert_eq!(set(&facade, control.clone(), "json=[1]".to_owned()).await, StatusCode::BAD_REQUEST);
    assert_eq!(set(&facade, control.clone(), "json={".to_owned()).await, StatusCode::BAD_REQUEST);

    let admin = facade.login(&facade.key(Scopes::ADMIN).await).await;
    let change = serde_json::json!({
        "listen_port": 51_999, "max_ratio_enabled": true, "max_ratio": 1.5,
        "queueing_enabled": true, "max_active_downloads": 2
    });
    assert_eq!(set(&facade, admin.clone(), form(&change)).await, StatusCode::OK);
    let saved = facade.service.settings().await.expect("settings").settings.engine_profile;
    assert_eq!(saved.listen_port, 51_999);
    assert_eq!(saved.active_downloads, Some(2));
    assert_eq!(
        saved.share_limits.ratio,
        revaer_domain::share::Limit::At(revaer_domain::share::Ratio::new(1.5).expect("ratio"))
    );
    facade.stop().await;
}

//! `app/setPreferences`: the preferences Revaer has, applied to the
//! `engine_profile` settings as one changeset; every other key is accepted
//! and ignored (VueTorrent posts the whole object back).
//!
//! Only values that differ from what `app/preferences` shows, and from the
//! settings, are written, so posting the preferences back unchanged writes
//! nothing. Changing the global rate
//! caps needs `control`, as `transfer/setDownloadLimit` does; anything
//! else is a change to the engine's settings and needs `admin`, as
//! `PATCH /v1/config` does.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_domain::Scope;
use revaer_domain::settings::{Changeset, EngineProfile};
use revaer_domain::share::{Limit, Ratio, ShareAction};
use revaer_service::Caller;
use serde_json::{Map, Value, json};

use crate::params::Params;
use crate::reply::{Reply, Text, service_error};
use crate::state::QbitState;

/// Keys a `control` key may change.
const CONTROL_KEYS: &[&str] = &["download_limit_bps", "upload_limit_bps"];

#[allow(clippy::option_option, reason = "a preference not given and one set to none differ")]
/// A count where qBittorrent's `-1` (or 0 for rates) means none.
fn optional(value: &Value, zero_is_none: bool) -> Option<Option<u64>> {
    let number = value.as_i64()?;
    Some(u64::try_from(number).ok().filter(|n| !(zero_is_none && *n == 0)))
}

fn bool_of(prefs: &Map<String, Value>, key: &str) -> Option<bool> {
    prefs.get(key).and_then(Value::as_bool)
}

#[allow(clippy::option_option, reason = "a preference not given and one set to none differ")]
/// The share limit a pair `<name>_enabled` / `<name>` asks for, `None`
/// when neither is given: `Some(None)` is no limit.
fn share_pair<T>(
    prefs: &Map<String, Value>,
    name: &str,
    current: Option<T>,
    parse: impl Fn(&Value) -> Option<T>,
) -> Option<Option<T>> {
    let enabled = bool_of(prefs, &format!("{name}_enabled"));
    let value = prefs.get(name).and_then(&parse);
    match (enabled, value) {
        (None, None) => None,
        (Some(false), _) => Some(None),
        (_, Some(value)) => Some(Some(value)),
        (Some(true), None) => Some(current),
    }
}

fn at<T>(limit: Limit<T>) -> Option<T> {
    match limit {
        Limit::At(value) => Some(value),
        Limit::Inherit | Limit::Unlimited => None,
    }
}

/// The changes `prefs` asks of `profile`, as an `engine_profile` patch.
pub fn patch(profile: &EngineProfile, prefs: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, now: Value, wanted: Option<Value>| {
        if let Some(wanted) = wanted.filter(|wanted| *wanted != now) {
            out.insert(key.to_owned(), wanted);
        }
    };
    for (key, now) in
        [("dht", profile.dht), ("pex", profile.pex), ("lsd", profile.lsd), ("upnp", profile.upnp)]
    {
        put(key, json!(now), bool_of(prefs, key).map(Value::from));
    }
    let port = prefs.get("listen_port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok());
    put("listen_port", json!(profile.listen_port), port.filter(|p| *p > 0).map(Value::from));
    let connections = prefs.get("max_connec").and_then(Value::as_u64).filter(|n| *n > 0);
    put("connections_limit", json!(profile.connections_limit), connections.map(Value::from));
    for (ours, theirs, now) in [
        ("download_limit_bps", "dl_limit", profile.download_limit_bps),
        ("upload_limit_bps", "up_limit", profile.upload_limit_bps),
    ] {
        let wanted = prefs.get(theirs).and_then(|v| optional(v, true));
        put(ours, json!(now), wanted.map(|cap| json!(cap)));
    }
    let queueing = bool_of(prefs, "queueing_enabled");
    // Queueing is on when a queue size is set: turned on with none given
    // (app/preferences shows -1 while it is off), qBittorrent's defaults.
    let off = profile.active_downloads.is_none()
        && profile.active_seeds.is_none()
        && profile.active_limit.is_none();
    for (ours, theirs, now, default) in [
        ("active_downloads", "max_active_downloads", profile.active_downloads, 3),
        ("active_seeds", "max_active_uploads", profile.active_seeds, 3),
        ("active_limit", "max_active_torrents", profile.active_limit, 5),
    ] {
        let given = prefs.get(theirs).and_then(|v| optional(v, false));
        let wanted = match queueing {
            Some(false) => Some(None),
            Some(true) if off => Some(Some(given.flatten().unwrap_or(default))),
            _ => given,
        };
        put(ours, json!(now), wanted.map(|count| json!(count)));
    }
    out.extend(share_patch(profile, prefs));
    out
}

fn share_patch(profile: &EngineProfile, prefs: &Map<String, Value>) -> Map<String, Value> {
    let share = &profile.share_limits;
    let minutes = |v: &Value| v.as_u64().map(|m| m.saturating_mul(60));
    let ratio = |v: &Value| v.as_f64().filter(|r| *r >= 0.0).and_then(Ratio::new);
    let mut out = Map::new();
    let mut put = |key: &str, now: Option<Value>, wanted: Option<Option<Value>>| {
        if let Some(wanted) = wanted.filter(|wanted| *wanted != now) {
            out.insert(key.to_owned(), wanted.unwrap_or_else(|| json!("unlimited")));
        }
    };
    let now_ratio = at(share.ratio);
    put(
        "ratio",
        now_ratio.map(|r| json!(r.get())),
        share_pair(prefs, "max_ratio", now_ratio, ratio).map(|r| r.map(|r| json!(r.get()))),
    );
    for (ours, theirs, now) in [
        ("seeding_time_secs", "max_seeding_time", at(share.seeding_time_secs)),
        ("inactive_time_secs", "max_inactive_seeding_time", at(share.inactive_time_secs)),
    ] {
        let wanted = share_pair(prefs, theirs, now, minutes);
        put(ours, now.map(Value::from), wanted.map(|t| t.map(Value::from)));
    }
    let action = prefs.get("max_ratio_act").and_then(Value::as_u64).and_then(|code| match code {
        0 => Some(ShareAction::Stop),
        1 => Some(ShareAction::Remove),
        3 => Some(ShareAction::RemoveWithData),
        _ => None,
    });
    if let Some(action) = action.filter(|a| Some(*a) != share.action) {
        out.insert("action".to_owned(), json!(action));
    }
    if out.is_empty() {
        out
    } else {
        Map::from_iter([("share_limits".to_owned(), Value::Object(out))])
    }
}

/// `app/setPreferences`: `json`, an object of preferences.
pub async fn set_preferences(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let Some(Value::Object(prefs)) =
        params.get("json").and_then(|text| serde_json::from_str(text).ok())
    else {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "json must be an object"));
    };
    // What the client was shown and sends back as it was is no change,
    // even where the engine runs with other values than the settings
    // (a port taken at random, say).
    let shown = crate::rid::fields(&crate::app::current_preferences(&state));
    let prefs: Map<String, Value> =
        prefs.into_iter().filter(|(key, value)| shown.get(key) != Some(value)).collect();
    let current = state.service.settings().await.map_err(service_error)?;
    let changes = patch(&current.settings.engine_profile, &prefs);
    if changes.is_empty() {
        return Ok(Text::body(""));
    }
    let needs_admin = changes.keys().any(|key| !CONTROL_KEYS.contains(&key.as_str()));
    if needs_admin && !caller.grant.allows(Scope::Admin) {
        return Ok(Text::status(StatusCode::FORBIDDEN));
    }
    let document = json!({"engine_profile": changes}).to_string();
    let changeset = Changeset::parse(&document)
        .map_err(|err| Text::error(StatusCode::BAD_REQUEST, err.to_string()))?;
    state
        .service
        .change_settings(&caller, &changeset, "qBittorrent API", Some(current.revision))
        .await
        .map_err(service_error)?;
    Ok(Text::body(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn only_differences_are_patched() {
        let profile = EngineProfile::default();
        let same = prefs(json!({
            "dht": profile.dht, "pex": profile.pex, "dl_limit": 0, "up_limit": -1,
            "max_ratio_enabled": false, "max_ratio": -1, "web_ui_port": 8080, "locale": "en"
        }));
        assert!(patch(&profile, &same).is_empty(), "{:?}", patch(&profile, &same));
        let changed = prefs(json!({
            "dht": !profile.dht, "dl_limit": 1024, "queueing_enabled": true,
            "max_active_downloads": 3, "max_ratio_enabled": true, "max_ratio": 2.5,
            "max_seeding_time_enabled": true, "max_seeding_time": 90, "max_ratio_act": 3
        }));
        let out = Value::Object(patch(&profile, &changed));
        assert_eq!(out["dht"], !profile.dht);
        assert_eq!(out["download_limit_bps"], 1024);
        assert_eq!(out["active_downloads"], 3);
        assert_eq!(
            out["share_limits"],
            json!({"ratio": 2.5, "seeding_time_secs": 5400, "action": "remove_with_data"})
        );
        let off = prefs(json!({"queueing_enabled": false, "max_active_downloads": 9}));
        let mut queued = profile.clone();
        (queued.active_downloads, queued.active_seeds, queued.active_limit) = (Some(3), None, None);
        assert_eq!(Value::Object(patch(&queued, &off)), json!({"active_downloads": null}));
    }

    #[test]
    fn queueing_turned_on_alone_takes_qbittorrents_default_sizes() {
        let mut profile = EngineProfile::default();
        (profile.active_downloads, profile.active_seeds, profile.active_limit) = (None, None, None);
        let sizes = json!({"active_downloads": 3, "active_seeds": 3, "active_limit": 5});
        // autobrr sends the flag alone; VueTorrent the sizes shown while off.
        for on in [
            json!({"queueing_enabled": true}),
            json!({"queueing_enabled": true, "max_active_downloads": -1,
                   "max_active_uploads": -1, "max_active_torrents": -1}),
        ] {
            assert_eq!(Value::Object(patch(&profile, &prefs(on))), sizes);
        }
        let mine = prefs(json!({"queueing_enabled": true, "max_active_torrents": 8}));
        assert_eq!(Value::Object(patch(&profile, &mine))["active_limit"], 8);
        // Already on: the flag alone changes nothing.
        let mut queued = profile;
        queued.active_downloads = Some(2);
        assert!(patch(&queued, &prefs(json!({"queueing_enabled": true}))).is_empty());
    }
}

//! Share limits in qBittorrent's words: `-2` defers to the level above
//! (qBittorrent's "global"), `-1` is no limit, times are in minutes, and
//! the action has qBittorrent's names.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use revaer_api_models::TorrentAction;
use revaer_domain::share::{
    EffectiveLimits, Limit, MAX_TIME_SECS, Ratio, ShareAction, ShareLimits,
};
use revaer_service::Caller;

use crate::params::Params;
use crate::reply::{Reply, Text};
use crate::state::QbitState;

/// "Defer to the level above".
pub const INHERIT: i64 = -2;
/// "No limit".
pub const UNLIMITED: i64 = -1;

/// A ratio limit as qBittorrent sends it.
pub fn ratio_wire(limit: Limit<Ratio>) -> f64 {
    match limit {
        Limit::Inherit => INHERIT as f64,
        Limit::Unlimited => UNLIMITED as f64,
        Limit::At(ratio) => ratio.get(),
    }
}

/// A time limit as qBittorrent sends it: minutes.
pub fn minutes_wire(limit: Limit<u64>) -> i64 {
    match limit {
        Limit::Inherit => INHERIT,
        Limit::Unlimited => UNLIMITED,
        Limit::At(secs) => i64::try_from(secs.div_ceil(60)).unwrap_or(i64::MAX),
    }
}

/// The limit in force as qBittorrent's `max_*` fields send it.
pub fn effective_ratio(limits: &EffectiveLimits) -> f64 {
    limits.ratio.map_or(UNLIMITED as f64, Ratio::get)
}

/// A time in force, in minutes (`-1`: none).
pub fn effective_minutes(secs: Option<u64>) -> i64 {
    secs.map_or(UNLIMITED, |secs| minutes_wire(Limit::At(secs)))
}

/// A torrent's own action by qBittorrent's name (`Default`: the level
/// above decides).
pub fn action_wire(action: Option<ShareAction>) -> &'static str {
    match action {
        None => "Default",
        Some(ShareAction::Stop) => "Stop",
        Some(ShareAction::Remove) => "Remove",
        Some(ShareAction::RemoveWithData) => "RemoveWithContent",
    }
}

/// The global action as preferences' `max_ratio_act` numbers it.
pub fn action_code(action: ShareAction) -> u8 {
    match action {
        ShareAction::Stop => 0,
        ShareAction::Remove => 1,
        ShareAction::RemoveWithData => 3,
    }
}

/// A ratio parameter; absent defers. `None` when unusable.
pub fn ratio_param(text: Option<&str>) -> Option<Limit<Ratio>> {
    let Some(text) = text.map(str::trim) else { return Some(Limit::Inherit) };
    let value = text.parse::<f64>().ok()?;
    if value >= 0.0 {
        return Ratio::new(value).map(Limit::At);
    }
    match value.round() as i64 {
        INHERIT => Some(Limit::Inherit),
        UNLIMITED => Some(Limit::Unlimited),
        _ => None,
    }
}

/// A time parameter in minutes; absent defers. `None` when unusable.
pub fn minutes_param(text: Option<&str>) -> Option<Limit<u64>> {
    let Some(text) = text.map(str::trim) else { return Some(Limit::Inherit) };
    match text.parse::<i64>().ok()? {
        INHERIT => Some(Limit::Inherit),
        UNLIMITED => Some(Limit::Unlimited),
        minutes => {
            let secs = u64::try_from(minutes).ok()?.checked_mul(60)?;
            (secs <= MAX_TIME_SECS).then_some(Limit::At(secs))
        }
    }
}

/// An action parameter (qBittorrent 5.2's names, or `max_ratio_act`'s
/// numbers); absent or `Default` defers. `None` when unusable (super
/// seeding is not offered).
pub fn action_param(text: Option<&str>) -> Option<Option<ShareAction>> {
    match text.map(str::trim) {
        None | Some("Default" | "-1") => Some(None),
        Some("Stop" | "0") => Some(Some(ShareAction::Stop)),
        Some("Remove" | "1") => Some(Some(ShareAction::Remove)),
        Some("RemoveWithContent" | "3") => Some(Some(ShareAction::RemoveWithData)),
        Some(_) => None,
    }
}

/// The limits a `setShareLimits` (or an add) names: `ratioLimit`,
/// `seedingTimeLimit`, `inactiveSeedingTimeLimit` (minutes) and
/// `shareLimitAction`, each deferring when absent (Sonarr sends only the
/// first two or three). `None` when one is unusable.
pub fn limits_param(
    params: &Params,
    ratio: &str,
    seeding: &str,
    inactive: &str,
) -> Option<ShareLimits> {
    Some(ShareLimits {
        ratio: ratio_param(params.get(ratio))?,
        seeding_time_secs: minutes_param(params.get(seeding))?,
        inactive_time_secs: minutes_param(params.get(inactive))?,
        action: action_param(params.get("shareLimitAction"))?,
    })
}

/// `torrents/setShareLimits`: `hashes`, `ratioLimit`, `seedingTimeLimit`,
/// `inactiveSeedingTimeLimit`, `shareLimitAction`. `400` for a value that
/// is not a limit.
pub async fn set_share_limits(
    State(state): State<QbitState>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Reply<Text> {
    let Some(limits) =
        limits_param(&params, "ratioLimit", "seedingTimeLimit", "inactiveSeedingTimeLimit")
    else {
        return Ok(Text::error(StatusCode::BAD_REQUEST, "Invalid share limits"));
    };
    crate::actions::each(&state, &caller, &params, TorrentAction::ShareLimits { limits }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_and_write_qbittorrent_numbers() {
        assert_eq!(ratio_param(Some("-2")), Some(Limit::Inherit));
        assert_eq!(ratio_param(Some("-1")), Some(Limit::Unlimited));
        assert_eq!(ratio_param(Some("1.5")), Ratio::new(1.5).map(Limit::At));
        assert_eq!(ratio_param(Some("-3")), None);
        assert_eq!(ratio_param(Some("lots")), None);
        assert_eq!(ratio_param(None), Some(Limit::Inherit));
        assert_eq!(minutes_param(Some("90")), Some(Limit::At(5400)));
        assert_eq!(minutes_param(Some("1.5")), None);
        assert_eq!(minutes_param(Some("99999999")), None);
        assert_eq!(
            action_param(Some("RemoveWithContent")),
            Some(Some(ShareAction::RemoveWithData))
        );
        assert_eq!(action_param(Some("EnableSuperSeeding")), None);
        assert_eq!(minutes_wire(Limit::At(61)), 2);
        assert!((ratio_wire(Limit::Inherit) + 2.0).abs() < f64::EPSILON);
        assert_eq!(action_wire(Some(ShareAction::Remove)), "Remove");
    }
}

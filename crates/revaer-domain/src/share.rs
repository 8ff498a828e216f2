//! Share limits: when a finished torrent has seeded enough, and what then.
//!
//! A limit is set per torrent, per category and globally. Each of the
//! three limits (ratio, seeding time, inactive seeding time) and the action
//! is resolved on its own: the torrent's own value unless it says
//! [`Limit::Inherit`], then its category's, then the global one (where
//! `inherit` means no limit and the default action is [`ShareAction::Stop`]).
//! The first limit reached fires the action.
//!
//! ```
//! use revaer_domain::share::{Limit, Ratio, ShareLimits};
//!
//! let global = ShareLimits { ratio: Limit::At(Ratio::new(2.0).unwrap()), ..ShareLimits::default() };
//! let mine = ShareLimits { seeding_time_secs: Limit::At(3600), ..ShareLimits::default() };
//! let limits = mine.resolve(None, &global);
//! assert_eq!(limits.ratio, Some(Ratio::new(2.0).unwrap()));
//! assert_eq!(limits.seeding_time_secs, Some(3600));
//! assert_eq!(limits.inactive_time_secs, None);
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::settings::Violation;

/// The highest ratio limit (qBittorrent's too).
pub const MAX_RATIO: f64 = 9998.0;
/// The longest time limit: a year, in seconds (qBittorrent's 525 600 min).
pub const MAX_TIME_SECS: u64 = 525_600 * 60;

/// A seeding ratio (uploaded / downloaded), kept to a thousandth so that
/// limits compare exactly. On the wire a number from 0 to 9998.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio(u32);

impl Ratio {
    /// A ratio from a number in `0..=9998`, rounded to a thousandth.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && (0.0..=MAX_RATIO).contains(&value))
            .then(|| Self((value * 1000.0).round() as u32))
    }

    /// The ratio as a number.
    pub fn get(self) -> f64 {
        f64::from(self.0) / 1000.0
    }

    /// Whether a torrent at `ratio` has reached this limit (within half a
    /// thousandth, so that a limit of 1.0 is met by exactly 1.0).
    pub fn reached_by(self, ratio: f64) -> bool {
        ratio * 1000.0 + 0.5 >= f64::from(self.0)
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.get())
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Self::new(value).ok_or_else(|| serde::de::Error::custom("a ratio from 0 to 9998"))
    }
}

/// One limit at one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Limit<T> {
    /// Defer to the level above (the category, then the global limit).
    #[default]
    Inherit,
    /// No limit at this level, whatever the levels above say.
    Unlimited,
    /// This limit.
    At(T),
}

impl<T: Copy> Limit<T> {
    /// This level's answer, or the one above when it defers.
    #[must_use]
    pub fn or(self, above: Self) -> Self {
        match self {
            Self::Inherit => above,
            mine => mine,
        }
    }

    /// The limit in force, if any (`inherit` at the top means none).
    pub fn value(self) -> Option<T> {
        match self {
            Self::At(value) => Some(value),
            Self::Inherit | Self::Unlimited => None,
        }
    }
}

const INHERIT: &str = "inherit";
const UNLIMITED: &str = "unlimited";

impl<T: Serialize> Serialize for Limit<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Inherit => serializer.serialize_str(INHERIT),
            Self::Unlimited => serializer.serialize_str(UNLIMITED),
            Self::At(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Limit<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire<T> {
            Word(String),
            Value(T),
        }
        match Wire::<T>::deserialize(deserializer)? {
            Wire::Value(value) => Ok(Self::At(value)),
            Wire::Word(word) if word == INHERIT => Ok(Self::Inherit),
            Wire::Word(word) if word == UNLIMITED => Ok(Self::Unlimited),
            Wire::Word(word) => Err(serde::de::Error::custom(format!(
                "`{word}` is not a limit: a number, \"inherit\" or \"unlimited\""
            ))),
        }
    }
}

/// What happens when a limit is reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareAction {
    /// Stop the torrent (it stays, complete and paused).
    #[default]
    Stop,
    /// Remove the torrent and keep its files.
    Remove,
    /// Remove the torrent and the files it wrote.
    RemoveWithData,
}

impl fmt::Display for ShareAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stop => "stop",
            Self::Remove => "remove",
            Self::RemoveWithData => "remove_with_data",
        })
    }
}

/// Share limits at one level (a torrent, a category or the whole daemon).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ShareLimits {
    /// Stop seeding at this ratio (uploaded / downloaded).
    #[cfg_attr(feature = "openapi", schema(schema_with = ratio_schema))]
    pub ratio: Limit<Ratio>,
    /// Stop after seeding this long, in seconds.
    #[cfg_attr(feature = "openapi", schema(schema_with = time_schema))]
    pub seeding_time_secs: Limit<u64>,
    /// Stop after seeding this long without uploading or downloading, in
    /// seconds.
    #[cfg_attr(feature = "openapi", schema(schema_with = time_schema))]
    pub inactive_time_secs: Limit<u64>,
    /// What happens then (`null`: the level above decides; at the top,
    /// `stop`).
    pub action: Option<ShareAction>,
}

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareLimitKind {
    /// The ratio limit.
    Ratio,
    /// The seeding-time limit.
    SeedingTime,
    /// The inactive-seeding-time limit.
    InactiveTime,
}

/// The limits in force for one torrent, after inheritance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveLimits {
    /// The ratio limit, if any.
    pub ratio: Option<Ratio>,
    /// The seeding-time limit in seconds, if any.
    pub seeding_time_secs: Option<u64>,
    /// The inactive-seeding-time limit in seconds, if any.
    pub inactive_time_secs: Option<u64>,
    /// The action.
    pub action: ShareAction,
}

/// Where a seeding torrent stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seeding {
    /// Its ratio.
    pub ratio: f64,
    /// How long it has seeded, in seconds.
    pub seeding_secs: u64,
    /// How long since it last moved payload (or completed), in seconds.
    pub inactive_secs: u64,
}

impl ShareLimits {
    /// The limits in force for a torrent with these limits, in a category
    /// with `category`'s, under `global`.
    pub fn resolve(&self, category: Option<&Self>, global: &Self) -> EffectiveLimits {
        let above = category.copied().unwrap_or_default();
        EffectiveLimits {
            ratio: self.ratio.or(above.ratio).or(global.ratio).value(),
            seeding_time_secs: self
                .seeding_time_secs
                .or(above.seeding_time_secs)
                .or(global.seeding_time_secs)
                .value(),
            inactive_time_secs: self
                .inactive_time_secs
                .or(above.inactive_time_secs)
                .or(global.inactive_time_secs)
                .value(),
            action: self.action.or(above.action).or(global.action).unwrap_or_default(),
        }
    }

    /// Every violation, with pointers under `base` (time limits above a
    /// year; a ratio out of range cannot be built).
    pub fn validate(&self, base: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        for (field, limit) in [
            ("seeding_time_secs", self.seeding_time_secs),
            ("inactive_time_secs", self.inactive_time_secs),
        ] {
            if limit.value().is_some_and(|secs| secs > MAX_TIME_SECS) {
                out.push(Violation {
                    pointer: format!("{base}/{field}"),
                    message: format!("must be at most {MAX_TIME_SECS} seconds (a year)"),
                });
            }
        }
        out
    }
}

impl EffectiveLimits {
    /// The first limit `seeding` has reached, if any.
    pub fn reached(&self, seeding: &Seeding) -> Option<ShareLimitKind> {
        if self.ratio.is_some_and(|limit| limit.reached_by(seeding.ratio)) {
            Some(ShareLimitKind::Ratio)
        } else if self.seeding_time_secs.is_some_and(|limit| seeding.seeding_secs >= limit) {
            Some(ShareLimitKind::SeedingTime)
        } else if self.inactive_time_secs.is_some_and(|limit| seeding.inactive_secs >= limit) {
            Some(ShareLimitKind::InactiveTime)
        } else {
            None
        }
    }
}

#[cfg(feature = "openapi")]
fn limit_schema(
    value: utoipa::openapi::schema::Schema,
    what: &str,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(value)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([INHERIT, UNLIMITED]))
                .build(),
        )
        .description(Some(format!(
            "{what}; \"inherit\" defers to the category, then the global limit; \"unlimited\" sets none."
        )))
        .into()
}

#[cfg(feature = "openapi")]
fn ratio_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let number =
        ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0.0)).maximum(Some(MAX_RATIO));
    limit_schema(number.build().into(), "A ratio from 0 to 9998")
}

#[cfg(feature = "openapi")]
fn time_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let secs = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0.0))
        .maximum(Some(MAX_TIME_SECS as f64));
    limit_schema(secs.build().into(), "Seconds, at most a year")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(value: f64) -> Ratio {
        Ratio::new(value).expect("ratio")
    }

    #[test]
    fn ratios_are_bounded_and_exact_to_a_thousandth() {
        assert_eq!(Ratio::new(-0.1), None);
        assert_eq!(Ratio::new(f64::NAN), None);
        assert_eq!(Ratio::new(9998.5), None);
        assert!(ratio(1.0).reached_by(1.0) && ratio(1.0).reached_by(0.9996));
        assert!(!ratio(1.0).reached_by(0.999));
        assert!(ratio(0.0).reached_by(0.0));
        assert_eq!(ratio(1.2345), ratio(1.235));
    }

    #[test]
    fn limits_read_numbers_and_words_and_refuse_the_rest() {
        let limits: ShareLimits = serde_json::from_str(
            r#"{"ratio": 1.5, "seeding_time_secs": "unlimited", "action": "remove_with_data"}"#,
        )
        .expect("limits");
        assert_eq!(limits.ratio, Limit::At(ratio(1.5)));
        assert_eq!(limits.seeding_time_secs, Limit::Unlimited);
        assert_eq!(limits.inactive_time_secs, Limit::Inherit);
        assert_eq!(limits.action, Some(ShareAction::RemoveWithData));
        let json = serde_json::to_value(limits).expect("json");
        assert_eq!(json["ratio"], 1.5);
        assert_eq!(json["inactive_time_secs"], "inherit");
        for bad in [
            r#"{"ratio": "lots"}"#,
            r#"{"ratio": -1}"#,
            r#"{"seeding_time_secs": -5}"#,
            r#"{"ratio": 1, "extra": 1}"#,
        ] {
            assert!(serde_json::from_str::<ShareLimits>(bad).is_err(), "{bad}");
        }
        let long = ShareLimits {
            seeding_time_secs: Limit::At(MAX_TIME_SECS + 1),
            ..ShareLimits::default()
        };
        assert_eq!(long.validate("/share_limits")[0].pointer, "/share_limits/seeding_time_secs");
    }

    #[test]
    fn each_limit_is_inherited_on_its_own() {
        let global = ShareLimits {
            ratio: Limit::At(ratio(2.0)),
            seeding_time_secs: Limit::At(100),
            inactive_time_secs: Limit::Inherit,
            action: None,
        };
        let category = ShareLimits {
            ratio: Limit::Unlimited,
            action: Some(ShareAction::Remove),
            ..ShareLimits::default()
        };
        let torrent = ShareLimits { inactive_time_secs: Limit::At(5), ..ShareLimits::default() };
        let limits = torrent.resolve(Some(&category), &global);
        assert_eq!(limits.ratio, None, "the category lifts the global ratio");
        assert_eq!(limits.seeding_time_secs, Some(100));
        assert_eq!(limits.inactive_time_secs, Some(5));
        assert_eq!(limits.action, ShareAction::Remove);
        assert_eq!(
            ShareLimits::default().resolve(None, &ShareLimits::default()).action,
            ShareAction::Stop
        );
    }

    #[test]
    fn the_first_limit_reached_is_named() {
        let limits = EffectiveLimits {
            ratio: Some(ratio(1.0)),
            seeding_time_secs: Some(60),
            inactive_time_secs: Some(30),
            action: ShareAction::Stop,
        };
        let at =
            |ratio, seeding_secs, inactive_secs| Seeding { ratio, seeding_secs, inactive_secs };
        assert_eq!(limits.reached(&at(0.5, 10, 10)), None);
        assert_eq!(limits.reached(&at(1.0, 10, 10)), Some(ShareLimitKind::Ratio));
        assert_eq!(limits.reached(&at(0.5, 60, 10)), Some(ShareLimitKind::SeedingTime));
        assert_eq!(limits.reached(&at(0.5, 10, 30)), Some(ShareLimitKind::InactiveTime));
    }
}

//! What an API key may do: [`Scope`]s, and the set of them a key holds
//! ([`Scopes`]).
//!
//! Scopes nest: `admin` grants `control`, which grants `read`. Every route
//! (and every facade or web page built on the same keys) needs one scope;
//! a key may hand out only what it holds itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One permission.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scope {
    /// Lists, details, the event stream, health and metrics.
    Read,
    /// What `read` can, and adding, removing and acting on torrents, file
    /// selection and transfer caps.
    Control,
    /// Everything: keys, settings and setup-level acts.
    Admin,
}

impl Scope {
    /// Every scope, narrowest first.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// Its wire name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The scopes this one grants, itself included.
    fn grants(self) -> Scopes {
        match self {
            Self::Read => Scopes::of(&[Self::Read]),
            Self::Control => Scopes::of(&[Self::Read, Self::Control]),
            Self::Admin => Scopes::of(&[Self::Read, Self::Control, Self::Admin]),
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Read => 1,
            Self::Control => 2,
            Self::Admin => 4,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's scopes, as given (not widened by what they grant). Written as a
/// comma-separated list (`read,control`) in storage; the wire lists
/// [`Scope`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

/// A scope list that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a scope (read, control, admin)")]
pub struct UnknownScope(pub String);

impl Scopes {
    /// Every scope (what keys made before scopes existed hold).
    pub const ADMIN: Self = Self(Scope::Admin.bit());

    /// The set of `scopes`.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether none is held.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes held, narrowest first.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.iter().copied().filter(move |s| self.0 & s.bit() != 0)
    }

    /// Everything these scopes grant.
    fn granted(self) -> Self {
        Self(self.iter().fold(0, |bits, s| bits | s.grants().0))
    }

    /// Whether a key holding these may do what `scope` guards.
    pub fn allows(self, scope: Scope) -> bool {
        self.granted().0 & scope.bit() != 0
    }

    /// Whether everything `other` grants, these grant too (a key may issue
    /// or rotate only keys it covers).
    pub fn covers(self, other: Self) -> bool {
        let (mine, theirs) = (self.granted().0, other.granted().0);
        theirs & !mine == 0
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Scopes {
    type Err = UnknownScope;

    /// A comma-separated list; blanks around names are ignored, an empty
    /// list is empty.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut scopes = Self::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Scope::from_str(name).map_err(|_| UnknownScope(name.to_owned()))?;
            scopes.0 |= scope.bit();
        }
        Ok(scopes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest() {
        let read = Scopes::of(&[Scope::Read]);
        let control = Scopes::of(&[Scope::Control]);
        assert!(read.allows(Scope::Read) && !read.allows(Scope::Control));
        assert!(control.allows(Scope::Read) && !control.allows(Scope::Admin));
        assert!(Scopes::ADMIN.allows(Scope::Control) && Scopes::ADMIN.allows(Scope::Read));
        assert!(!Scopes::default().allows(Scope::Read));
    }

    #[test]
    fn a_key_covers_only_what_it_grants() {
        let control = Scopes::of(&[Scope::Control]);
        assert!(control.covers(Scopes::of(&[Scope::Read])));
        assert!(control.covers(Scopes::of(&[Scope::Read, Scope::Control])));
        assert!(!control.covers(Scopes::ADMIN));
        assert!(Scopes::ADMIN.covers(control));
        assert!(!Scopes::of(&[Scope::Read]).covers(control));
    }

    #[test]
    fn lists_parse_and_print_both_ways() -> Result<(), Box<dyn std::error::Error>> {
        let scopes: Scopes = " read , control ".parse()?;
        assert_eq!(scopes.to_string(), "read,control");
        assert_eq!(scopes.iter().collect::<Vec<_>>(), [Scope::Read, Scope::Control]);
        assert_eq!("".parse::<Scopes>()?, Scopes::default());
        assert_eq!("root".parse::<Scopes>(), Err(UnknownScope("root".into())));
        assert_eq!(serde_json::to_string(&Scope::Control)?, r#""control""#);
        assert!(serde_json::from_str::<Scope>(r#""root""#).is_err());
        Ok(())
    }
}

//! Secrets: random tokens shown once, stored as SHA-256 hashes.
//!
//! Tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store
//! them (a password hash would only slow every request down); comparisons
//! of hashes are constant-time.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret shown to its owner once (an API key or a setup token). Its
/// `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// The secret itself, to hand to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

/// 32 random bytes, base64url without padding (43 characters).
pub(crate) fn random_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

/// 8 random bytes as 16 hex digits.
pub(crate) fn random_id() -> String {
    let mut bytes = [0_u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

pub(crate) fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Constant-time comparison of a stored hash with the hash of `secret`.
pub(crate) fn matches(secret: &str, stored: &[u8]) -> bool {
    bool::from(hash(secret).as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hashed_and_hidden() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(random_id().len(), 16);
        assert!(matches(&a, &hash(&a)));
        assert!(!matches(&b, &hash(&a)));
        assert!(!matches(&a, &hash(&a)[..31]));
        let token = SecretToken::new(a.clone());
        assert_eq!(format!("{token:?}"), "SecretToken(***)");
        assert_eq!(token.expose(), a);
    }
}

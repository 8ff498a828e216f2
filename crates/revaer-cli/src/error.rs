//! What can go wrong, and the exit code each failure maps to:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 2 | invalid input: the CLI's own checks, or a 4xx problem with `invalid_params`, 400, 409, 412, 413, 415, 422 |
//! | 3 | authentication or authorisation (401, 403) |
//! | 4 | not found (404) |
//! | 5 | rate limited (429) |
//! | 10 | server or network failure (5xx, connection, timeout) |

use revaer_api_models::Problem;

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments (or a file they name) are invalid; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// The server answered with a problem document.
    #[error("{}", .0.title)]
    Problem(Box<Problem>),
    /// The server could not be reached, timed out, or answered something
    /// that is not the API's.
    #[error("{0}")]
    Network(String),
    /// Already reported on stderr (several failures of a bulk action); the
    /// exit code is the first failure's.
    #[error("{1}")]
    Reported(u8, String),
    /// Whoever read our output is gone (a closed pipe): stop quietly.
    #[error("output closed")]
    OutputClosed,
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) => 2,
            Self::Network(_) => 10,
            Self::Reported(code, _) => *code,
            Self::OutputClosed => 0,
            Self::Problem(problem) => match problem.status {
                401 | 403 => 3,
                404 => 4,
                429 => 5,
                400..=499 => 2,
                _ => 10,
            },
        }
    }
}

/// Command results.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_exit_codes() {
        let code = |status| CliError::Problem(Box::new(Problem::new("x", "X", status))).exit_code();
        assert_eq!([400, 409, 412, 413, 415, 422].map(code), [2; 6]);
        assert_eq!([401, 403].map(code), [3, 3]);
        assert_eq!(code(404), 4);
        assert_eq!(code(429), 5);
        assert_eq!([500, 502, 503].map(code), [10; 3]);
        assert_eq!(CliError::Invalid("x".into()).exit_code(), 2);
        assert_eq!(CliError::Network("x".into()).exit_code(), 10);
    }
}

//! Where the HTTP API listens. The address belongs to the instance, not to
//! the settings daemons share: `--bind` (or `REVAER_BIND`) wins and is
//! recorded in the data directory; without it the recorded address is
//! used; without either, the shared settings' `app_profile.bind_address`
//! and `http_port` (127.0.0.1:7070 by default).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;
use revaer_domain::settings::AppProfile;

use super::files;

/// The file in the data directory that records this instance's address.
pub const LISTEN_FILE: &str = "listen-address";

/// The address to listen on, and where it came from (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// The address.
    pub addr: SocketAddr,
    /// Where it came from.
    pub source: &'static str,
    /// Whether to record it (given by flag) once it is bound.
    pub record: bool,
}

/// Records `addr` as this instance's address (once it is bound: an
/// address that cannot be bound is never remembered).
pub fn record(data_dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    let path = data_dir.join(LISTEN_FILE);
    files::write_private(&path, format!("{addr}\n").as_bytes())
        .with_context(|| format!("record the listen address in {}", path.display()))
}

/// Resolves the address: the flag (recorded for next time), the recorded
/// address, or the shared settings.
pub fn resolve(
    flag: Option<SocketAddr>,
    data_dir: &Path,
    app: &AppProfile,
) -> anyhow::Result<Listen> {
    let path = data_dir.join(LISTEN_FILE);
    if let Some(addr) = flag {
        return Ok(Listen { addr, source: "--bind / REVAER_BIND", record: true });
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let addr = text.trim().parse().with_context(|| {
                format!("{} does not hold an address (ip:port); fix or delete it", path.display())
            })?;
            Ok(Listen { addr, source: "recorded for this instance", record: false })
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Listen {
            addr: SocketAddr::new(app.bind_address, app.http_port),
            source: "settings (app_profile)",
            record: false,
        }),
        Err(err) => Err(err).with_context(|| format!("read {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_and_is_remembered() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let app = AppProfile::default();
        let settings = resolve(None, dir.path(), &app)?;
        assert_eq!(settings.addr.to_string(), "127.0.0.1:7070");
        assert_eq!(settings.source, "settings (app_profile)");
        let flag: SocketAddr = "127.0.0.1:9000".parse()?;
        let given = resolve(Some(flag), dir.path(), &app)?;
        assert_eq!((given.addr, given.record), (flag, true));
        assert_eq!(resolve(None, dir.path(), &app)?.source, "settings (app_profile)", "not yet");
        record(dir.path(), flag)?;
        let again = resolve(None, dir.path(), &app)?;
        assert_eq!((again.addr, again.source), (flag, "recorded for this instance"));
        std::fs::write(dir.path().join(LISTEN_FILE), "nowhere")?;
        let broken = resolve(None, dir.path(), &app).map(|l| l.addr);
        assert!(broken.is_err_and(|err| format!("{err:#}").contains("fix or delete it")));
        Ok(())
    }
}

//! `revaerd`'s flags and environment: parsed here, and only here, into a
//! typed configuration for the composition root.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The Revaer daemon.
#[derive(Debug, Clone, Parser)]
#[command(name = "revaerd", version, about = "The Revaer torrent daemon")]
#[allow(clippy::struct_excessive_bools, reason = "independent command-line switches")]
pub struct Cli {
    /// Where the database (SQLite), downloads, resume data and library live
    /// by default.
    #[arg(long, env = "REVAER_DATA_DIR", default_value = "./revaer-data")]
    pub data_dir: PathBuf,
    /// HTTP address. Given (here or in the environment), it is also
    /// recorded in the data directory for this instance's next starts;
    /// absent, the recorded one is used, else the shared settings'
    /// `app_profile.bind_address`:`http_port` (127.0.0.1:7070).
    #[arg(long, env = "REVAER_BIND")]
    pub bind: Option<SocketAddr>,
    /// Folders clients may have files written in (repeat the flag, or
    /// separate with `:` in the environment). Every save path, move
    /// target and settings path must resolve inside one, and each must
    /// exist (a missing one, such as an unmounted disk, stops the daemon).
    /// Default: the data directory.
    #[arg(long = "storage-root", env = "REVAER_STORAGE_ROOTS", value_delimiter = ':')]
    pub storage_roots: Vec<PathBuf>,
    /// BitTorrent listen port for this instance (overrides the stored
    /// `engine_profile.listen_port`, so that daemons can share a host).
    #[arg(long, env = "REVAER_PEER_PORT")]
    pub peer_port: Option<u16>,
    /// PostgreSQL URL; SQLite in the data directory when absent.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// This daemon's name as the owner of FsOps jobs; unique among daemons
    /// sharing a database. Default: the host name and the data directory,
    /// stable across restarts.
    #[arg(long, env = "REVAER_INSTANCE")]
    pub instance: Option<String>,
    /// Let clients on any address complete setup (default: loopback only).
    /// Publish the port only to a trusted network until setup is done.
    #[arg(long, env = "REVAER_SETUP_ALLOW_REMOTE")]
    pub setup_allow_remote: bool,
    /// Make `/metrics` require an API key from loopback clients too.
    #[arg(long, env = "REVAER_METRICS_REQUIRE_KEY")]
    pub metrics_require_key: bool,
    /// Make `/health/full` and `/metrics` require an API key from loopback
    /// clients too (needed when a proxy on this host forwards remote
    /// clients).
    #[arg(long, env = "REVAER_NO_LOOPBACK_EXEMPTIONS")]
    pub no_loopback_exemptions: bool,
    /// Do not serve the qBittorrent-compatible API under `/api/v2` (served
    /// by default, on the same listener, to the same API keys).
    #[arg(long, env = "REVAER_NO_QBIT_API")]
    pub no_qbit_api: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs
    /// `--tls-key`.
    #[arg(long, env = "REVAER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs `--tls-cert`.
    #[arg(long, env = "REVAER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names
    /// the client; repeat, or separate with commas in the environment.
    /// Off by default: the TCP peer is the client.
    #[arg(long = "trusted-proxy", env = "REVAER_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = proxy_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Largest `.torrent` accepted by `POST /v1/torrents`, in bytes (as a
    /// form's file part, or base64 in JSON; 1 KiB to 16 MiB); larger
    /// uploads answer 413.
    #[arg(long, env = "REVAER_MAX_TORRENT_BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=16 * 1024 * 1024))]
    pub max_torrent_bytes: u32,
    /// Most HTTP connections open at once (more are closed as soon as they
    /// are accepted). Each event stream holds one.
    #[arg(long, env = "REVAER_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(16..=65_536))]
    pub max_connections: u32,
    /// Most HTTP connections open at once from one client address (trusted
    /// proxies aside, whose connections carry many clients).
    #[arg(long, env = "REVAER_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections_per_address: u32,
    /// Seconds a client has to send a request's headers, counted from when
    /// the server waits for them (so also how long an idle kept-alive
    /// connection stays open).
    #[arg(long, env = "REVAER_HTTP_HEAD_TIMEOUT", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub http_head_timeout: u64,
    /// Seconds a client has to send a request's whole body, from the
    /// request's start (past it: 408, and the connection is closed).
    #[arg(long, env = "REVAER_HTTP_BODY_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub http_body_timeout: u64,
    /// Seconds an answer may wait on a client that reads none of it before
    /// the connection is closed.
    #[arg(long, env = "REVAER_HTTP_WRITE_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub http_write_timeout: u64,
    /// What to do (default: run the daemon).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A CIDR block, or a single address (as a /32 or /128).
fn proxy_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is neither an address nor a CIDR block"))
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Completes setup headlessly: writes the first API key's token to a
    /// file (mode 0600) and exits. Fails on an instance already set up.
    Init {
        /// Where to write the token.
        #[arg(long)]
        api_key_out: PathBuf,
    },
    /// Clears `app_profile.immutable_keys`, so that every setting can be
    /// changed again. Run it while the daemon is stopped (it takes the
    /// data directory's lock); the change is recorded in the settings
    /// history like any other.
    UnlockSettings,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "revaerd",
            "--data-dir",
            "/d",
            "--bind",
            "127.0.0.1:0",
            "--peer-port",
            "6999",
        ])
        .expect("valid");
        assert_eq!(cli.data_dir, PathBuf::from("/d"));
        assert_eq!(cli.bind.map(|b| b.port()), Some(0));
        assert_eq!(cli.peer_port, Some(6999));
        assert!(cli.command.is_none());
        let init = Cli::try_parse_from(["revaerd", "init", "--api-key-out", "/k"]).expect("valid");
        assert!(matches!(init.command, Some(Command::Init { .. })));
        let unlock = Cli::try_parse_from(["revaerd", "unlock-settings"]).expect("valid");
        assert!(matches!(unlock.command, Some(Command::UnlockSettings)));
        assert!(Cli::try_parse_from(["revaerd", "--bind", "nowhere"]).is_err());
        let proxies = Cli::try_parse_from([
            "revaerd",
            "--trusted-proxy",
            "127.0.0.1",
            "--trusted-proxy",
            "10.0.0.0/8",
        ])
        .expect("valid")
        .trusted_proxies;
        assert_eq!(
            proxies.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["127.0.0.1/32", "10.0.0.0/8"]
        );
        assert!(Cli::try_parse_from(["revaerd", "--trusted-proxy", "somewhere"]).is_err());
        assert!(Cli::try_parse_from(["revaerd", "--tls-cert", "/c"]).is_err(), "needs the key");
        assert!(Cli::try_parse_from(["revaerd", "--peer-port", "70000"]).is_err());
        assert!(
            Cli::try_parse_from(["revaerd", "--metrics-require-key"])
                .expect("valid")
                .metrics_require_key
        );
    }
}

//! Logging in and who is asking, as qBittorrent does it.
//!
//! - `auth/login` takes an API key as the password (the username is
//!   ignored: a key names its owner) and opens a session named by a `SID`
//!   cookie (`HttpOnly; path=/; SameSite=Strict`, no expiry: a browser
//!   session cookie, as qBittorrent 4.x–5.1 sets it). Bad credentials
//!   answer `200 Fails.`; five in a row ban the address from logging in
//!   for an hour (`403`).
//! - Every other endpoint needs a session, or the key itself as
//!   `Authorization: Bearer <key>` or Basic (any user, the key as the
//!   password); without one it answers `403`. The key's scopes bound what
//!   the request may do (`403` otherwise) and every request spends from its
//!   rate limit (`429`).
//! - A request whose `Origin` (else `Referer`) names another host than its
//!   `Host` is refused with `401`; one with neither passes, as API clients
//!   send neither.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use revaer_domain::Scope;
use revaer_service::Caller;
use revaer_service::ratelimit::Decision;
use revaer_store::ApiKey;

use crate::params::Params;
use crate::reply::Text;
use crate::session::sid_from_cookies;
use crate::state::QbitState;
use crate::sync::Client;

/// Longest credential read from a header or a form, in bytes.
const MAX_CREDENTIAL: usize = 256;

/// `POST /api/v2/auth/login`.
pub async fn login(State(state): State<QbitState>, request: Request) -> Response {
    let ip = client(&request, &state);
    if let Some(refused) = cross_site(request.headers()) {
        return refused.into_response();
    }
    if state.sessions.banned(ip) {
        return Text::error(
            StatusCode::FORBIDDEN,
            "Your IP address has been banned after too many failed authentication attempts.",
        )
        .into_response();
    }
    let cookies = cookie_values(request.headers());
    let current = sid_from_cookies(cookies.iter().map(String::as_str)).map(str::to_owned);
    let params = match <Params as axum::extract::FromRequest<QbitState>>::from_request(
        request, &state,
    )
    .await
    {
        Ok(params) => params,
        Err(refused) => return refused.into_response(),
    };
    let password = params.get("password").unwrap_or_default();
    let key = (password.len() <= MAX_CREDENTIAL)
        .then(|| state.service.authenticate(password.trim()))
        .flatten();
    let Some(key) = key else {
        state.sessions.failed(ip);
        tracing::info!(client = %ip, "qBittorrent API login failed");
        return Text::body("Fails.").into_response();
    };
    state.sessions.succeeded(ip);
    // Logging in spends from the key's rate limit like any request.
    if let Decision::Denied { retry_after_secs, .. } = state.service.admit(&key, None) {
        return too_many(retry_after_secs);
    }
    // An already valid session of the same key is kept: no new cookie.
    let keys = state.service.keys();
    if current.is_some_and(|sid| state.sessions.resolve(&sid, keys).as_deref() == Some(&key.key_id))
    {
        return Text::ok().into_response();
    }
    let Some(mark) = keys.token_mark(&key.key_id) else {
        return Text::body("Fails.").into_response();
    };
    let sid = state.sessions.open(&key.key_id, mark);
    let mut response = Text::ok().into_response();
    if let Ok(cookie) =
        HeaderValue::from_str(&format!("SID={sid}; HttpOnly; path=/; SameSite=Strict"))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /api/v2/auth/logout`: ends the request's session.
pub async fn logout(State(state): State<QbitState>, headers: HeaderMap) -> Text {
    let cookies = cookie_values(&headers);
    if let Some(sid) = sid_from_cookies(cookies.iter().map(String::as_str)) {
        state.sessions.close(sid);
    }
    Text::body("")
}

/// Lets through requests with a key that holds `read` (every key does:
/// reads, and logging out).
pub async fn require_read(state: State<QbitState>, request: Request, next: Next) -> Response {
    require(state, Scope::Read, request, next).await
}

/// Lets through requests with a key that holds `control`.
pub async fn require_control(state: State<QbitState>, request: Request, next: Next) -> Response {
    require(state, Scope::Control, request, next).await
}

async fn require(
    State(state): State<QbitState>,
    scope: Scope,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(refused) = cross_site(request.headers()) {
        return refused.into_response();
    }
    let Some((key, client)) = caller_key(request.headers(), &state) else {
        return Text::status(StatusCode::FORBIDDEN).into_response();
    };
    if !key.scopes.allows(scope) {
        return Text::error(
            StatusCode::FORBIDDEN,
            format!("this API key lacks the {} scope", scope.as_str()),
        )
        .into_response();
    }
    if let Decision::Denied { retry_after_secs, .. } = state.service.admit(&key, None) {
        return too_many(retry_after_secs);
    }
    request.extensions_mut().insert(Caller::key(&key, None));
    request.extensions_mut().insert(client);
    next.run(request).await
}

fn too_many(retry_after_secs: u64) -> Response {
    let mut response = Text::status(StatusCode::TOO_MANY_REQUESTS).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The key a request presents (a Bearer or Basic credential, else its
/// session's), and who it is for incremental sync: the session, or the
/// key when there is none.
fn caller_key(headers: &HeaderMap, state: &QbitState) -> Option<(ApiKey, Client)> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(value) = authorization.filter(|v| v.len() <= 2 * MAX_CREDENTIAL) {
        let token = if let Some(token) = value.strip_prefix("Bearer ") {
            token.trim().to_owned()
        } else if let Some(encoded) = value.strip_prefix("Basic ") {
            let decoded = data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok();
            let text = decoded.and_then(|bytes| String::from_utf8(bytes).ok()).unwrap_or_default();
            text.split_once(':').map(|(_, password)| password.trim().to_owned()).unwrap_or_default()
        } else {
            String::new()
        };
        // A credential that does not verify (a proxy's own Basic login,
        // say) leaves the session cookie to decide.
        if let Some(key) = (!token.is_empty()).then(|| state.service.authenticate(&token)).flatten()
        {
            let client = Client(format!("key:{}", key.key_id));
            return Some((key, client));
        }
    }
    let cookies = cookie_values(headers);
    let sid = sid_from_cookies(cookies.iter().map(String::as_str))?;
    let key_id = state.sessions.resolve(sid, state.service.keys())?;
    let key = state.service.keys().get(&key_id)?;
    Some((key, Client(format!("sid:{sid}"))))
}

fn cookie_values(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .take(16)
        .map(str::to_owned)
        .collect()
}

/// `401` when the request's `Origin` (else `Referer`) names another
/// `host[:port]` than the one it was sent to: `X-Forwarded-Host` when a
/// proxy sets it (as qBittorrent reads it), else `Host`. A scheme's
/// default port counts as no port.
fn cross_site(headers: &HeaderMap) -> Option<Text> {
    let named = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let source = named("origin").or_else(|| named("referer"))?;
    let (scheme, rest) = source.split_once("://").unwrap_or(("", source));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let target = named("x-forwarded-host")
        .and_then(|value| value.split(',').next())
        .or_else(|| named("host"))
        .unwrap_or_default()
        .trim();
    let bare = |host: &str| {
        let default = match scheme {
            "https" => ":443",
            "http" => ":80",
            _ => "",
        };
        let host = host.to_ascii_lowercase();
        match host.strip_suffix(default) {
            Some(stripped) if !default.is_empty() => stripped.to_owned(),
            _ => host,
        }
    };
    (bare(authority) != bare(target)).then(|| Text::status(StatusCode::UNAUTHORIZED))
}

/// The client's address for bans (unknown clients share one).
fn client(request: &Request, state: &QbitState) -> IpAddr {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    };
    let forwarded = request.headers().get_all("x-forwarded-for");
    let values = forwarded.iter().filter_map(|value| value.to_str().ok());
    // A trusted proxy that names no client: its own address, so that one
    // tool's failures never ban everyone behind other proxies.
    revaer_service::peer::client_ip(peer.ip(), values, &state.config.trusted_proxies)
        .unwrap_or_else(|| peer.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cross_site_requests_are_refused_and_api_clients_pass() {
        assert!(cross_site(&headers(&[("host", "127.0.0.1:7070")])).is_none(), "neither header");
        let same = [("host", "127.0.0.1:7070"), ("origin", "http://127.0.0.1:7070")];
        assert!(cross_site(&headers(&same)).is_none());
        let referer = [("host", "h:1"), ("referer", "https://h:1/index.html?x")];
        assert!(cross_site(&headers(&referer)).is_none());
        let other = [("host", "127.0.0.1:7070"), ("origin", "http://evil.example")];
        assert!(cross_site(&headers(&other)).is_some());
        let port = [("host", "h:1"), ("referer", "http://h:2/")];
        assert!(cross_site(&headers(&port)).is_some(), "another port is another site");
        let default = [("host", "example.org"), ("origin", "https://example.org:443")];
        assert!(cross_site(&headers(&default)).is_none(), "the default port is no port");
        let proxied = [
            ("host", "127.0.0.1:7070"),
            ("x-forwarded-host", "torrents.example.org"),
            ("origin", "https://torrents.example.org"),
        ];
        assert!(cross_site(&headers(&proxied)).is_none(), "behind a proxy");
    }
}

//! The HTTP client: one request at a time against the daemon's API, each
//! with a fresh `x-request-id` and W3C `traceparent`, the API key from the
//! options, and every answer that is not a success turned into a
//! [`CliError`] (Problem+JSON when the server sent one).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use revaer_api_models::{PROBLEM_CONTENT_TYPE, Problem};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CliError, CliResult};

/// Where and how to reach the daemon.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL (`http://127.0.0.1:7070`).
    pub base: String,
    /// The API key, if any.
    pub api_key: Option<String>,
    /// Per-request timeout (none for event streams).
    pub timeout: Duration,
    /// Print each request and answer (secrets masked) on stderr.
    pub verbose: bool,
    /// On a 429, wait as `Retry-After` says (at most a minute) and try
    /// once more.
    pub retry: bool,
}

/// Longest `Retry-After` honoured.
const MAX_RETRY_WAIT: u64 = 60;

/// The client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    /// One trace for the whole command: every request is a span of it.
    trace_id: String,
}

/// Identifiers of one request, shown on errors.
#[derive(Debug, Clone)]
pub struct RequestIds {
    /// 32 hex digits.
    pub trace_id: String,
    /// The `x-request-id` sent.
    pub request_id: String,
}

/// A new random trace id (32 hex digits, never all zeros).
pub fn new_trace_id() -> String {
    format!("{:032x}", rand::random::<u128>().max(1))
}

impl RequestIds {
    fn new(trace_id: &str) -> Self {
        let request_id = format!("{:016x}", rand::random::<u64>().max(1));
        Self { trace_id: trace_id.to_owned(), request_id }
    }

    fn traceparent(&self) -> String {
        format!("00-{}-{:016x}-01", self.trace_id, rand::random::<u64>().max(1))
    }
}

/// Shows a secret as its first characters only.
pub fn mask(secret: &str) -> String {
    let shown: String = secret.chars().take(8).collect();
    format!("{shown}…")
}

impl Client {
    /// A client for `config`.
    pub fn new(config: ClientConfig, trace_id: String) -> CliResult<Self> {
        let url = reqwest::Url::parse(&config.base)
            .map_err(|err| CliError::Invalid(format!("--api-url `{}`: {err}", config.base)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(CliError::Invalid(format!(
                "--api-url `{}`: give an http:// or https:// URL",
                config.base
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .user_agent(concat!("revaer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| CliError::Network(format!("cannot build an HTTP client: {err}")))?;
        Ok(Self { http, config, trace_id })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A request to `path` (relative to the base URL), with the key and
    /// fresh trace ids.
    pub fn request(&self, method: &Method, path: &str) -> (RequestBuilder, RequestIds) {
        let url = format!("{}{path}", self.config.base.trim_end_matches('/'));
        let ids = RequestIds::new(&self.trace_id);
        let mut builder = self
            .http
            .request(method.clone(), &url)
            .header("x-request-id", &ids.request_id)
            .header("traceparent", ids.traceparent());
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key);
        }
        if self.config.verbose {
            let key = self.config.api_key.as_deref().map(mask).unwrap_or_default();
            eprintln!("> {method} {url} (trace {}, key {key})", ids.trace_id);
        }
        (builder, ids)
    }

    /// Sends a request with a timeout; a failure status becomes an error.
    pub async fn send(&self, builder: RequestBuilder, ids: &RequestIds) -> CliResult<Response> {
        let again = if self.config.retry { builder.try_clone() } else { None };
        let response = builder
            .timeout(self.config.timeout)
            .send()
            .await
            .map_err(|err| network(&err, &self.config.base))?;
        if let Some(again) = again
            && response.status() == StatusCode::TOO_MANY_REQUESTS
        {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .min(MAX_RETRY_WAIT);
            if self.config.verbose {
                eprintln!("< 429; retrying in {wait} s");
            }
            tokio::time::sleep(Duration::from_secs(wait)).await;
            return Box::pin(self.send_once(again, ids)).await;
        }
        self.check(response, ids).await
    }

    async fn send_once(&self, builder: RequestBuilder, ids: &RequestIds) -> CliResult<Response> {
        let response = builder
            .timeout(self.config.timeout)
            .send()
            .await
            .map_err(|err| network(&err, &self.config.base))?;
        self.check(response, ids).await
    }

    async fn check(&self, response: Response, ids: &RequestIds) -> CliResult<Response> {
        if self.config.verbose {
            eprintln!("< {}", response.status());
        }
        if response.status().is_success() {
            return Ok(response);
        }
        Err(problem(response, ids).await)
    }

    /// Sends a request without a total timeout (an event stream); the
    /// connection attempt is still bounded.
    pub async fn send_stream(
        &self,
        builder: RequestBuilder,
        ids: &RequestIds,
    ) -> CliResult<Response> {
        // The headers must come within the timeout; the body may take forever.
        let sent = tokio::time::timeout(self.config.timeout, builder.send()).await;
        let response = sent
            .map_err(|_| CliError::Network(format!("timed out: {}", self.config.base)))?
            .map_err(|err| network(&err, &self.config.base))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(problem(response, ids).await)
    }

    /// Sends a request with a timeout and answers whatever came back.
    pub async fn send_raw(&self, builder: RequestBuilder) -> CliResult<Response> {
        builder
            .timeout(self.config.timeout)
            .send()
            .await
            .map_err(|err| network(&err, &self.config.base))
    }

    /// `GET path` → `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        let (builder, ids) = self.request(&Method::GET, path);
        json(self.send(builder, &ids).await?).await
    }

    /// `method path` with a JSON body → `T`.
    pub async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> CliResult<T> {
        let (builder, ids) = self.request(&method, path);
        json(self.send(builder.json(body), &ids).await?).await
    }

    /// `method path` (optional JSON body), for answers without a body.
    pub async fn send_empty<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> CliResult<()> {
        let (mut builder, ids) = self.request(&method, path);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.send(builder, &ids).await.map(|_| ())
    }
}

fn network(err: &reqwest::Error, base: &str) -> CliError {
    // The whole chain: reqwest's own text leaves the cause out.
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if err.is_builder() {
        return CliError::Invalid(format!("cannot make the request: {text}"));
    }
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    CliError::Network(format!("{what}: {base}: {text}"))
}

/// Largest answer read (a page of 1000 torrents is far smaller).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Reads an answer's body, refusing one past [`MAX_BODY`].
async fn body(mut response: Response) -> CliResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| CliError::Network(format!("reading the answer: {err}")))?
    {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(CliError::Network("the answer is larger than 64 MiB".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads a JSON answer.
pub async fn json<T: DeserializeOwned>(response: Response) -> CliResult<T> {
    let bytes = body(response).await?;
    serde_json::from_slice(&bytes)
        .map_err(|err| CliError::Network(format!("the answer is not what the API sends: {err}")))
}

/// The problem a failed answer carries (or one made up from its status).
pub async fn problem(response: Response, ids: &RequestIds) -> CliError {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE));
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let read = tokio::time::timeout(Duration::from_secs(30), body(response)).await;
    let bytes = read.ok().and_then(Result::ok).unwrap_or_default();
    let mut problem = if is_problem {
        serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| fallback(status))
    } else {
        fallback(status)
    };
    if problem.trace_id.is_none() {
        problem.trace_id = Some(ids.trace_id.clone());
    }
    if let (Some(wait), None) = (retry_after, &problem.detail) {
        problem.detail = Some(format!("retry in {wait} s"));
    }
    CliError::Problem(Box::new(problem))
}

fn fallback(status: StatusCode) -> Problem {
    let title = status.canonical_reason().unwrap_or("Unexpected answer");
    Problem::new("unexpected", title, status.as_u16())
        .detail(format!("the server answered {status} without a problem document"))
}

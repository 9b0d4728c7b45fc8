//! Lookout's HTTP server: the CloudWatch Logs wire protocol over axum.
//!
//! [`app`] builds the router: `POST /` with `X-Amz-Target: Logs_20140328.<Operation>`
//! dispatches to [`Service::invoke`]; every response carries `x-amzn-RequestId` and `Date`;
//! errors are AWS JSON (`__type`, `message`, `x-amzn-ErrorType`). With [`Credentials`], every
//! request must be SigV4-signed by a known key whose policy allows the action on the log
//! group; without, requests are accepted unsigned (the CLI refuses to listen beyond loopback
//! then).
//!
//! ```no_run
//! # async fn run(service: lookout_service::Service) -> std::io::Result<()> {
//! let state = lookout_server::AppState::new(service, None);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4588").await?;
//! axum::serve(listener, lookout_server::app(state)).await
//! # }
//! ```
#![deny(missing_docs)]

mod auth;
mod policy;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use lookout_api::{ApiError, ErrorCode};
use lookout_service::Service;

pub use auth::{Credentials, CredentialsError};
pub use policy::Policy;

const TARGET_PREFIX: &str = "Logs_20140328.";
/// Largest request body: a full PutLogEvents batch (1 MiB of messages) with JSON escaping.
pub const MAX_BODY_BYTES: usize = 8 << 20;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    service: Service,
    credentials: Option<Arc<Credentials>>,
}

impl AppState {
    /// State over a service; `None` credentials accept unsigned requests.
    pub fn new(service: Service, credentials: Option<Credentials>) -> Self {
        Self {
            service,
            credentials: credentials.map(Arc::new),
        }
    }
}

/// The router: the API at `POST /`, anything else a JSON error.
pub fn app(state: AppState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// An HTTP date (RFC 1123), as the `Date` header wants it.
fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let amz = lookout_sigv4::format_amz_date(secs);
    let days = secs.div_euclid(86_400);
    let month: usize = amz.get(4..6).and_then(|m| m.parse().ok()).unwrap_or(1);
    format!(
        "{}, {} {} {} {}:{}:{} GMT",
        DAYS[days.rem_euclid(7) as usize],
        amz.get(6..8).unwrap_or("01"),
        MONTHS[(month.clamp(1, 12)) - 1],
        amz.get(0..4).unwrap_or("1970"),
        amz.get(9..11).unwrap_or("00"),
        amz.get(11..13).unwrap_or("00"),
        amz.get(13..15).unwrap_or("00"),
    )
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn respond(status: StatusCode, body: Vec<u8>, error: Option<ErrorCode>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    let id = uuid::Uuid::new_v4().to_string();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(now_secs())) {
        h.insert(http::header::DATE, v);
    }
    if let Some(code) = error
        && let Ok(v) = HeaderValue::from_str(code.as_str())
    {
        h.insert("x-amzn-errortype", v);
    }
    resp
}

fn error_response(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    respond(status, e.body(), Some(e.code))
}

/// The keys of a request body that name the resource a policy judges. Deserialising only
/// these skips the rest of the body without building it (a PutLogEvents body is up to 1 MiB
/// of events).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceKeys<'a> {
    #[serde(borrow, default)]
    log_group_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    log_group_identifier: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    resource_arn: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    log_stream_name: Option<std::borrow::Cow<'a, str>>,
}

/// The log group a request is about, for the policy's resource ARN.
fn target_resource(region: &str, body: &[u8]) -> String {
    let keys: ResourceKeys<'_> = serde_json::from_slice(body).unwrap_or_default();
    let account = "*";
    let group = keys.log_group_name.map(|g| g.into_owned()).or_else(|| {
        keys.log_group_identifier.or(keys.resource_arn).map(|id| {
            id.split(":log-group:")
                .nth(1)
                .map(|n| n.trim_end_matches(":*").to_string())
                .unwrap_or_else(|| id.to_string())
        })
    });
    match (group, keys.log_stream_name) {
        (Some(g), Some(st)) => {
            format!("arn:aws:logs:{region}:{account}:log-group:{g}:log-stream:{st}")
        }
        (Some(g), None) => format!("arn:aws:logs:{region}:{account}:log-group:{g}"),
        (None, _) => format!("arn:aws:logs:{region}:{account}:log-group:*"),
    }
}

async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        if parts.method == Method::GET && parts.uri.path() == "/health" {
            return respond(StatusCode::OK, b"{\"status\":\"ok\"}".to_vec(), None);
        }
        return error_response(&ApiError::new(
            ErrorCode::UnknownOperation,
            format!(
                "{} {} is not an operation: the API is POST / with X-Amz-Target",
                parts.method,
                parts.uri.path()
            ),
        ));
    }
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(&ApiError::invalid(format!(
                "Upload too large: the request body exceeds {MAX_BODY_BYTES} bytes"
            )));
        }
    };
    let op = match target(&parts.headers) {
        Ok(op) => op,
        Err(e) => return error_response(&e),
    };
    if let Some(creds) = &state.credentials
        && let Err(e) = check_auth(creds, &parts, &op, &body)
    {
        return error_response(&e);
    }
    match state.service.invoke(&op, &body).await {
        Ok(Some(out)) => respond(StatusCode::OK, out, None),
        Ok(None) => respond(StatusCode::OK, Vec::new(), None),
        Err(e) => error_response(&e),
    }
}

fn target(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match value.strip_prefix(TARGET_PREFIX) {
        Some(op) if !op.is_empty() => Ok(op.to_string()),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("unknown X-Amz-Target {value:?}: expected {TARGET_PREFIX}<Operation>"),
        )),
    }
}

fn check_auth(
    creds: &Credentials,
    parts: &http::request::Parts,
    op: &str,
    body: &[u8],
) -> Result<(), ApiError> {
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(parts.headers.len() + 1);
    for (k, v) in &parts.headers {
        // A header value that is not visible ASCII cannot have been signed as text.
        if let Ok(v) = v.to_str() {
            headers.push((k.as_str(), v));
        }
    }
    let authority = parts.uri.authority().map(|a| a.as_str().to_string());
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(a) = &authority
    {
        headers.push(("host", a));
    }
    let req = lookout_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let action = format!("logs:{op}");
    creds.authorize(&req, now_secs(), &action, |region| {
        target_resource(region, body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(http_date(1_440_938_160), "Sun, 30 Aug 2015 12:36:00 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}

/// How `lookout serve` runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Data directory.
    pub data_dir: std::path::PathBuf,
    /// Address to listen on.
    pub listen: std::net::SocketAddr,
    /// Credentials file; `None` accepts unsigned requests (loopback only).
    pub credentials: Option<std::path::PathBuf>,
    /// Oldest event PutLogEvents accepts, in milliseconds; `None` accepts any age.
    pub max_event_age_ms: Option<i64>,
    /// Region used in ARNs.
    pub region: String,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The credentials file is unusable.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// Without credentials the server only listens on loopback.
    #[error(
        "refusing to listen on {0} without --credentials: anyone who can reach it could read and write logs (use a loopback address, or pass --credentials FILE)"
    )]
    Unprotected(std::net::SocketAddr),
    /// The store could not be opened.
    #[error("cannot open the data directory {dir}: {detail}")]
    Store {
        /// The directory.
        dir: String,
        /// What went wrong.
        detail: String,
    },
    /// Listening failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Runs the server until Ctrl-C or SIGTERM, then stops accepting, finishes requests in
/// flight, flushes the store and closes it. Prints `listening on http://ADDR` to stderr once
/// the socket is bound (with `--listen 127.0.0.1:0`, ADDR has the chosen port).
pub async fn run(opts: ServerOptions) -> Result<(), ServerError> {
    let credentials = match &opts.credentials {
        Some(path) => Some(Credentials::load(path)?),
        None if !opts.listen.ip().is_loopback() => {
            return Err(ServerError::Unprotected(opts.listen));
        }
        None => None,
    };
    let mut cfg = lookout_service::ServiceConfig {
        region: opts.region.clone(),
        ..Default::default()
    };
    cfg.limits.max_event_age_ms = opts.max_event_age_ms.unwrap_or(i64::MAX);
    let dir = opts.data_dir.clone();
    let service = tokio::task::spawn_blocking(move || Service::open(&dir, cfg))
        .await
        .map_err(|e| ServerError::Store {
            dir: opts.data_dir.display().to_string(),
            detail: e.to_string(),
        })?
        .map_err(|e| ServerError::Store {
            dir: opts.data_dir.display().to_string(),
            detail: e.to_string(),
        })?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServerError::Listen {
            addr: opts.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(ServerError::Serve)?;
    eprintln!("listening on http://{local}");
    let state = AppState::new(service.clone(), credentials);
    serve(listener, state, shutdown_signal())
        .await
        .map_err(ServerError::Serve)?;
    tracing::info!("shutting down: flushing the store");
    if let Err(e) = service.flush().await {
        tracing::warn!(error = %e, "flush at shutdown failed; the write-ahead log keeps every event");
    }
    Ok(())
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// flight. Connections are HTTP/1.1 keep-alive (HTTP/2 when the client asks) with Nagle's
/// algorithm off: a response is one small write the client is waiting for.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

//! The web console: the JSON API, the three pages and their static files, behind the
//! web password; and how one HTTP connection is served.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{Path, Request, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::ctcs_conn::Command;
use crate::pages;
use crate::state::{unix_now, Globals, Policy, MAX_LIMIT};
use crate::Shared;

/// The largest request body taken: every API body is a few numbers or one option.
const MAX_BODY: usize = 16 * 1024;
/// The largest request head hyper buffers.
const MAX_HEAD: usize = 64 * 1024;
/// Files and peers are asked for at most this often (seconds), however many pages poll.
const REFRESH_EVERY: i64 = 2;

type Shared_ = Arc<Shared>;

/// An API error: a status and a message, as `{"error": "…"}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn not_found(id: u64) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no connected torrent {id}"))
}

/// The router, with the password check when one is set.
pub(crate) fn router(shared: Shared_) -> Router {
    let api = Router::new()
        .route("/api/torrents", get(list))
        .route("/api/torrents/{id}", get(details))
        .route("/api/torrents/{id}/limits", post(set_limits))
        .route("/api/torrents/{id}/config", post(set_config))
        .route("/api/torrents/{id}/policy", post(set_policy))
        .route("/api/torrents/{id}/update", post(update))
        .route("/api/torrents/{id}/restart", post(restart))
        .route("/api/torrents/{id}/quit", post(quit))
        .route("/api/overview", get(overview))
        .route("/api/limits", get(get_limits).post(set_globals))
        .route("/api/history", get(history))
        .route("/", get(index_page))
        .route("/torrent/{id}", get(details_page))
        .route("/limits", get(limits_page))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .fallback(fallback)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY));
    api.layer(axum::middleware::from_fn_with_state(
        Arc::clone(&shared),
        guard,
    ))
    .with_state(shared)
}

/// The web password (HTTP basic auth, any user name) and, without one, a loopback-only
/// `Host` check against DNS rebinding: a page from elsewhere that resolves its own name
/// to 127.0.0.1 must not reach an unprotected console.
async fn guard(AxState(shared): AxState<Shared_>, req: Request, next: Next) -> Response {
    match &shared.options.web_password {
        Some(pw) => {
            if !basic_auth_ok(req.headers(), pw) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(
                        header::WWW_AUTHENTICATE,
                        "Basic realm=\"trackwire CTCS\", charset=\"UTF-8\"",
                    )],
                    "the web console needs its password\n",
                )
                    .into_response();
            }
        }
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            if !host_is_local(host) {
                return (StatusCode::MISDIRECTED_REQUEST, "unknown host\n").into_response();
            }
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

/// Whether the `Authorization` header carries `password` (any user name), compared in
/// constant time.
pub(crate) fn basic_auth_ok(headers: &HeaderMap, password: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let given = decoded.get(colon + 1..).unwrap_or_default();
    constant_time_eq(given, password.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, &x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(!x);
    }
    diff == 0
}

/// Whether a `Host` header names this machine: `localhost` or an IP literal, with or
/// without a port.
pub(crate) fn host_is_local(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

async fn fallback() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such page".into())
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../static/console.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../static/console.js"),
    )
}

async fn list(AxState(shared): AxState<Shared_>) -> Json<serde_json::Value> {
    let state = shared.lock();
    let v: Vec<_> = state.torrents.values().map(|t| &t.summary).collect();
    Json(serde_json::to_value(v).unwrap_or_default())
}

/// Asks the client for files and peers when the last answer is older than
/// [`REFRESH_EVERY`]: the details page polls, and this keeps its data fresh without a
/// timer of its own.
fn refresh_if_stale(shared: &Shared, id: u64) {
    let mut state = shared.lock();
    if let Some(t) = state.torrents.get_mut(&id) {
        let now = unix_now();
        if now.saturating_sub(t.refreshed_at) >= REFRESH_EVERY {
            t.refreshed_at = now;
            let _ = t.commands.try_send(Command::Refresh);
        }
    }
}

async fn details(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    refresh_if_stale(&shared, id);
    let state = shared.lock();
    let t = state.torrents.get(&id).ok_or_else(|| not_found(id))?;
    Ok(Json(t.details(state.policy(&t.summary.name))))
}

/// Queues commands for one client.
fn send(shared: &Shared, id: u64, commands: &[Command]) -> Result<StatusCode, ApiError> {
    let state = shared.lock();
    let t = state.torrents.get(&id).ok_or_else(|| not_found(id))?;
    for c in commands {
        t.commands.try_send(c.clone()).map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "the client's command queue is full; try again".into(),
            )
        })?;
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/torrents/ID/limits`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limits {
    dl_limit: Option<i64>,
    ul_limit: Option<i64>,
}

fn limit_value(name: &str, v: i64) -> Result<i32, ApiError> {
    i32::try_from(v).ok().filter(|v| *v >= 0).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("{name}: {v} is out of range (0 to {MAX_LIMIT} bytes/s, 0 = none)"),
        )
    })
}

async fn set_limits(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(body): Json<Limits>,
) -> Result<StatusCode, ApiError> {
    let mut commands = Vec::new();
    if let Some(v) = body.dl_limit {
        commands.push(Command::DownloadLimit(limit_value("dl_limit", v)?));
    }
    if let Some(v) = body.ul_limit {
        commands.push(Command::UploadLimit(limit_value("ul_limit", v)?));
    }
    if commands.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "give dl_limit, ul_limit or both".into(),
        ));
    }
    send(&shared, id, &commands)
}

/// `POST /api/torrents/ID/config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    name: String,
    value: String,
}

async fn set_config(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(body): Json<ConfigChange>,
) -> Result<StatusCode, ApiError> {
    // The same rules as ServerSession::set_config, checked here so that the answer
    // says what is wrong instead of the session refusing it silently later.
    let name_ok = !body.name.is_empty()
        && body.name.len() <= 64
        && body.name.bytes().all(|b| b.is_ascii_graphic());
    if !name_ok {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "name: an option name is 1 to 64 printable ASCII characters without spaces".into(),
        ));
    }
    let v = body.value.as_bytes();
    if v.len() > 4096
        || v.iter().any(|b| matches!(b, 0 | b'\r' | b'\n'))
        || v.first().is_some_and(|b| matches!(b, b' ' | b'\t'))
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "value: at most 4096 bytes, no NUL, CR or LF, not starting with a blank".into(),
        ));
    }
    send(&shared, id, &[Command::Set(body.name, body.value)])
}

/// An empty JSON object: POSTs without parameters still need a JSON body, so a form or
/// a "simple" cross-site request (which cannot send `application/json` without a CORS
/// preflight this server never grants) cannot trigger them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn update(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(_): Json<Empty>,
) -> Result<StatusCode, ApiError> {
    send(&shared, id, &[Command::Update])
}

async fn restart(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(_): Json<Empty>,
) -> Result<StatusCode, ApiError> {
    send(&shared, id, &[Command::Restart])
}

async fn quit(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(_): Json<Empty>,
) -> Result<StatusCode, ApiError> {
    send(&shared, id, &[Command::Quit])
}

async fn set_policy(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
    Json(policy): Json<Policy>,
) -> Result<StatusCode, ApiError> {
    policy
        .check()
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.into()))?;
    let name = {
        let mut state = shared.lock();
        let name = state
            .torrents
            .get(&id)
            .ok_or_else(|| not_found(id))?
            .summary
            .name
            .clone();
        state.policies.insert(name.clone(), policy);
        name
    };
    shared.store.save_policy(name, policy);
    shared.changed();
    Ok(StatusCode::OK)
}

async fn overview(AxState(shared): AxState<Shared_>) -> Json<serde_json::Value> {
    let state = shared.lock();
    let sum = |f: fn(&crate::state::Summary) -> i32| -> i64 {
        state
            .torrents
            .values()
            .map(|t| i64::from(f(&t.summary).max(0)))
            .sum()
    };
    Json(json!({
        "torrents": state.torrents.len(),
        "dl_rate": sum(|s| s.dl_rate),
        "ul_rate": sum(|s| s.ul_rate),
        "dl_cap": state.globals.dl_cap,
        "ul_cap": state.globals.ul_cap,
        // The allocator runs while a cap is set.
        "automatic": state.globals.dl_cap > 0 || state.globals.ul_cap > 0,
    }))
}

async fn get_limits(AxState(shared): AxState<Shared_>) -> Json<serde_json::Value> {
    let state = shared.lock();
    Json(json!({
        "dl_cap": state.globals.dl_cap,
        "ul_cap": state.globals.ul_cap,
        "policies": state.policies,
    }))
}

async fn set_globals(
    AxState(shared): AxState<Shared_>,
    Json(g): Json<Globals>,
) -> Result<StatusCode, ApiError> {
    if g.dl_cap > MAX_LIMIT || g.ul_cap > MAX_LIMIT {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("caps are 0 to {MAX_LIMIT} bytes/s (0 = none)"),
        ));
    }
    shared.lock().globals = g;
    shared.store.save_globals(g);
    shared.changed();
    Ok(StatusCode::OK)
}

async fn history(AxState(shared): AxState<Shared_>) -> Json<serde_json::Value> {
    let state = shared.lock();
    Json(serde_json::to_value(&state.history).unwrap_or_default())
}

async fn index_page(AxState(shared): AxState<Shared_>) -> Html<String> {
    let state = shared.lock();
    Html(pages::index(&state))
}

async fn details_page(
    AxState(shared): AxState<Shared_>,
    Path(id): Path<u64>,
) -> Result<Html<String>, (StatusCode, Html<String>)> {
    refresh_if_stale(&shared, id);
    let state = shared.lock();
    match state.torrents.get(&id) {
        Some(t) => Ok(Html(pages::details(t, &state.policy(&t.summary.name)))),
        None => Err((StatusCode::NOT_FOUND, Html(pages::gone(id)))),
    }
}

async fn limits_page(AxState(shared): AxState<Shared_>) -> Html<String> {
    let state = shared.lock();
    Html(pages::limits(&state))
}

/// A stream that first yields the bytes read to recognise the connection, then the
/// socket's: hyper sees the request from its first byte.
pub(crate) struct Rewind {
    prefix: Vec<u8>,
    at: usize,
    inner: TcpStream,
}

impl Rewind {
    pub(crate) fn new(prefix: Vec<u8>, inner: TcpStream) -> Self {
        Rewind {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.at..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.remaining());
            buf.put_slice(rest.get(..n).unwrap_or_default());
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one HTTP/1.1 connection (keep-alive included) with `router`; the request head
/// must arrive within the handshake timeout, and each next one too.
pub(crate) async fn serve_http(shared: Shared_, router: Router, stream: Rewind) {
    let service = hyper_util::service::TowerToHyperService::new(router);
    let io = hyper_util::rt::TokioIo::new(stream);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(shared.options.handshake_timeout)
        .max_buf_size(MAX_HEAD)
        .keep_alive(true)
        .serve_connection(io, service);
    // A connection lives at most `idle_timeout`: that bounds one that trickles a body
    // or never reads its answer. Then it is shut down gracefully (the request in
    // flight is answered; a polling page simply opens a new connection), and cut if
    // even that stalls.
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = tokio::time::sleep(shared.options.idle_timeout) => conn.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(shared.options.handshake_timeout, conn).await;
}

/// The answer to a browser that reached the CTCS port while the console is elsewhere:
/// a plain page pointing to the web address, then close.
pub(crate) async fn misdirected(mut stream: TcpStream, web: SocketAddr) {
    use tokio::io::AsyncWriteExt;
    let body = format!("The trackwire CTCS console is at http://{web}/\n");
    let resp = format!(
        "HTTP/1.1 421 Misdirected Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.write_all(resp.as_bytes()),
    )
    .await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth() {
        let mut h = HeaderMap::new();
        assert!(!basic_auth_ok(&h, "pw"));
        let enc = base64::engine::general_purpose::STANDARD.encode("anyone:pw");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {enc}").parse().unwrap(),
        );
        assert!(basic_auth_ok(&h, "pw"));
        assert!(!basic_auth_ok(&h, "pw2"));
        assert!(!basic_auth_ok(&h, "p"));
        let enc = base64::engine::general_purpose::STANDARD.encode("pw");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {enc}").parse().unwrap(),
        );
        assert!(!basic_auth_ok(&h, "pw"), "no colon, no password");
        h.insert(header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert!(!basic_auth_ok(&h, "pw"));
    }

    #[test]
    fn local_hosts() {
        for h in [
            "localhost",
            "localhost:2780",
            "127.0.0.1:2780",
            "[::1]:80",
            "[::1]",
            "10.0.0.1",
            "LOCALHOST",
        ] {
            assert!(host_is_local(h), "{h}");
        }
        for h in ["", "evil.example", "evil.example:2780", "127.0.0.1.nip.io"] {
            assert!(!host_is_local(h), "{h}");
        }
    }

    #[test]
    fn limits_in_range() {
        assert_eq!(limit_value("dl_limit", 0).ok(), Some(0));
        assert_eq!(limit_value("dl_limit", 2_147_483_647).ok(), Some(i32::MAX));
        assert!(limit_value("dl_limit", -1).is_err());
        assert!(limit_value("dl_limit", 1 << 31).is_err());
    }
}

//! `trackwire ctcs serve`: the CTCS web console of `trackwire-console` (one listener for
//! ctorrent clients and browsers, the three pages, the JSON API, the operator's limits in
//! SQLite), run on a tokio runtime made here until Ctrl-C or SIGTERM.
//!
//! This file only turns flags into [`ServeOptions`], reports refused ones as usage
//! errors naming the flag and its range, and, with `--json-events`, prints every session
//! event as one JSON line on stdout, flushed at once: `{"conn": N, "event": E, …}`, N
//! being the torrent's `id` in the JSON API, E one of
//!
//! | E | fields |
//! |---|---|
//! | `hello` | `peer_id`, `start_timestamp`, `current_timestamp`, `filename` |
//! | `status` | `seeders`, `total_seeders`, `leechers`, `total_leechers`, `connecting`, `n_have`, `n_total`, `n_avail`, `dl_rate`, `ul_rate`, `dl_total`, `ul_total`, `dl_limit`, `ul_limit`, `cache_used` (version 1: no tracker totals, `connecting`, `cache_used`), `protocol` (the form's version) |
//! | `bandwidth` | `dl_rate`, `ul_rate`, `dl_limit`, `ul_limit` |
//! | `info` | `severity`, `message` (a continuation line: `continued: true` and `message`) |
//! | `detail` | `torrent_size`, `piece_size`, `current_timestamp`, `seed_timestamp` |
//! | `file` | `fileno`, `priority`, `current_priority` (v3), `n_pieces`, `n_have`, `n_available` (v2, v3), `filesize`, `filename` |
//! | `files_done`, `peers_done`, `config_done` | `items` |
//! | `peer` | `peer_id`, `address`, `choke_interest`, `dl_rate`, `ul_rate`, `dl_total`, `ul_total`, `n_pieces` |
//! | `config` | v3: `name`, `value_type`, `range`, `value`, `short_desc`, `long_desc`; v1/v2: the positional fields |
//! | `auth_failed` | `reason` |
//! | `closed` | |
//! | `error` | `error` (`line`, `not_identified`, `item_outside_block`, `unexpected_block_end`, `unterminated_block`), `message` |
//!
//! The other events (protocol negotiation, authentication, unknown lines, block starts,
//! idle clients) are one line each on stderr.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use trackwire::ctcs::{BlockKind, ServerEvent, Version};
use trackwire_console::{parse_seconds, OptionsError, OptionsErrorKind, ServeError, ServeOptions};

use crate::cli::CtcsServeArgs;
use crate::ctcs_json;
use crate::failure::Failure;

/// Where the web password comes from when `--web-password` is not given, so that it
/// need not show in the process list.
const WEB_PASSWORD_ENV: &str = "TRACKWIRE_WEB_PASSWORD";

/// How long stopping waits for blocking work (a database write) to end.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Runs `ctcs serve` until Ctrl-C or SIGTERM (exit 0), or until it cannot go on.
pub(crate) fn run(a: &CtcsServeArgs) -> Result<ExitCode, Failure> {
    let options = options(a)?;
    // Refused options are usage errors, and they are known before anything is bound.
    options.validate().map_err(|e| usage(&e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ctcs-serve")
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the runtime: {e}")))?;
    let json_events = a.json_events;
    let outcome = runtime.block_on(async move {
        let mut console = trackwire_console::bind(options).await?;
        log(&format!("listening on {}", console.listen_address()));
        log(&format!("web console on http://{}/", console.web_address()));
        if json_events {
            console = console.with_event_hook(Arc::new(print_event));
        }
        tokio::select! {
            r = console.run() => r.map(|()| None),
            why = stop_signal() => Ok(Some(why)),
        }
    });
    // Connections still open are dropped with the runtime.
    runtime.shutdown_timeout(STOP_GRACE);
    match outcome {
        Ok(Some(why)) => {
            log(&format!("stopped ({why})"));
            Ok(ExitCode::SUCCESS)
        }
        // `run` returns only on failure; an Ok would still be a stop nobody asked for.
        Ok(None) => Err(Failure::Failed("the console stopped accepting".into())),
        Err(ServeError::Options(e)) => Err(usage(&e)),
        Err(e) => Err(Failure::Failed(e.to_string())),
    }
}

/// The flags as [`ServeOptions`]; only the values' forms are checked here, their ranges
/// by [`ServeOptions::validate`].
fn options(a: &CtcsServeArgs) -> Result<ServeOptions, Failure> {
    let web_password = a.web_password.clone().or_else(|| {
        std::env::var(WEB_PASSWORD_ENV)
            .ok()
            .filter(|p| !p.is_empty())
    });
    Ok(ServeOptions {
        listen: resolve("--listen", &a.listen)?,
        web: a.web.as_deref().map(|w| resolve("--web", w)).transpose()?,
        web_password,
        ctcs_password: a.password.clone(),
        database: a.db.clone(),
        max_connections: usize::try_from(a.max_connections)
            .map_err(|_| Failure::Usage("--max-connections: too large".into()))?,
        sniff_timeout: seconds("sniff_timeout", &a.sniff_timeout)?,
        handshake_timeout: seconds("handshake_timeout", &a.handshake_timeout)?,
        line_timeout: seconds("line_timeout", &a.line_timeout)?,
        idle_timeout: seconds("idle_timeout", &a.idle_timeout)?,
        status_interval: seconds("status_interval", &a.status_interval)?,
        max_protocol: match a.protocol {
            1 => Version::V1,
            2 => Version::V2,
            _ => Version::V3,
        },
    })
}

/// The first address `text` (an IP address or a host name, with a port) names.
fn resolve(flag: &str, text: &str) -> Result<SocketAddr, Failure> {
    text.to_socket_addrs()
        .map_err(|e| Failure::Usage(format!("{flag} {text}: {e}")))?
        .next()
        .ok_or_else(|| Failure::Usage(format!("{flag} {text}: names no address")))
}

/// A duration flag for the [`ServeOptions`] field `field`. A value no `Duration` holds
/// (`1e20`, `NaN`, `-1`) is refused with the field's own range, which
/// [`ServeOptions::validate`] knows: it is asked about the longest duration there is.
fn seconds(field: &'static str, text: &str) -> Result<Duration, Failure> {
    parse_seconds(field, text).map_err(|e| {
        let mut probe = ServeOptions::default();
        match field {
            "sniff_timeout" => probe.sniff_timeout = Duration::MAX,
            "handshake_timeout" => probe.handshake_timeout = Duration::MAX,
            "line_timeout" => probe.line_timeout = Duration::MAX,
            "idle_timeout" => probe.idle_timeout = Duration::MAX,
            _ => probe.status_interval = Duration::MAX,
        }
        match probe.validate() {
            Err(OptionsError {
                kind: OptionsErrorKind::OutOfRange { min, max, .. },
                ..
            }) => Failure::Usage(format!(
                "{}: `{text}` is not a number of seconds from {min} to {max}",
                flag(field)
            )),
            _ => usage(&e),
        }
    })
}

/// The flag that sets the [`ServeOptions`] field `field`.
fn flag(field: &str) -> String {
    match field {
        "ctcs_password" => "--password".into(),
        "database" => "--db".into(),
        "max_protocol" => "--protocol".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// Refused options as a usage error that names the flag, not the field.
fn usage(e: &OptionsError) -> Failure {
    let text = e.to_string();
    let rest = text.strip_prefix(e.option).unwrap_or(&text);
    let mut line = format!("{}{rest}", flag(e.option));
    if matches!(e.kind, OptionsErrorKind::PasswordRequired { .. }) {
        line.push_str(&format!(" (--web-password or ${WEB_PASSWORD_ENV})"));
    }
    Failure::Usage(line)
}

/// Waits for Ctrl-C or SIGTERM; says which.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    // Without a SIGTERM handler, Ctrl-C still stops it; if even that cannot be set up,
    // the process runs until killed.
    match tokio::signal::ctrl_c().await {
        Ok(()) => "interrupted",
        Err(_) => std::future::pending().await,
    }
}

/// `--json-events`: one session event, printed at once (a closed stdout ends the
/// process quietly: nobody reads the events any more).
fn print_event(conn: u64, version: Version, ev: &ServerEvent<'_>) {
    if let Some(v) = event_json(conn, ev, version) {
        crate::out::json(&v);
    }
}

/// One stderr line (a closed stderr is not worth stopping the server for).
fn log(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn event(conn: u64, name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("conn".into(), json!(conn));
    m.insert("event".into(), json!(name));
    m
}

/// The JSON line for an event, or `None` for those only logged on stderr.
fn event_json(conn: u64, ev: &ServerEvent<'_>, version: Version) -> Option<Value> {
    let mut m;
    match ev {
        ServerEvent::Hello(t) => {
            m = event(conn, "hello");
            ctcs_json::torrent(&mut m, t);
        }
        ServerEvent::Status { status, version } => {
            m = event(conn, "status");
            ctcs_json::status(&mut m, status, *version);
            m.insert("protocol".into(), json!(version.get()));
        }
        ServerEvent::Bandwidth(b) => {
            m = event(conn, "bandwidth");
            ctcs_json::bandwidth(&mut m, b);
        }
        ServerEvent::Info(i) => {
            m = event(conn, "info");
            ctcs_json::info(&mut m, i);
        }
        ServerEvent::InfoContinued(t) => {
            m = event(conn, "info");
            m.insert("continued".into(), json!(true));
            m.insert("message".into(), ctcs_json::text(*t));
        }
        ServerEvent::Detail(d) => {
            m = event(conn, "detail");
            ctcs_json::detail(&mut m, d);
        }
        ServerEvent::File(f) => {
            m = event(conn, "file");
            ctcs_json::file(&mut m, f, version);
        }
        ServerEvent::Peer(p) => {
            m = event(conn, "peer");
            ctcs_json::peer(&mut m, p);
        }
        ServerEvent::Config(c) => {
            m = event(conn, "config");
            ctcs_json::config(&mut m, c);
        }
        ServerEvent::ConfigValues(c) => {
            m = event(conn, "config");
            ctcs_json::config_values(&mut m, c, version, false);
        }
        ServerEvent::BlockEnd { block, items } => {
            let name = match block {
                BlockKind::Files => "files_done",
                BlockKind::Peers => "peers_done",
                _ => "config_done",
            };
            m = event(conn, name);
            m.insert("items".into(), json!(items));
        }
        ServerEvent::AuthFailed(why) => {
            m = event(conn, "auth_failed");
            m.insert("reason".into(), json!(why.to_string()));
        }
        ServerEvent::Closed => m = event(conn, "closed"),
        ServerEvent::Error(e) => {
            m = event(conn, "error");
            m.insert("error".into(), json!(e.name()));
            m.insert("message".into(), json!(e.to_string()));
        }
        ServerEvent::Protocol { announced, version } => {
            log(&format!(
                "conn {conn}: client announced PROTOCOL {announced}; version {} in force",
                version.get()
            ));
            return None;
        }
        ServerEvent::Authenticated => {
            log(&format!("conn {conn}: authenticated"));
            return None;
        }
        ServerEvent::Unknown(t) => {
            log(&format!("conn {conn}: unknown line `{t}`"));
            return None;
        }
        ServerEvent::BlockBegin(block) => {
            log(&format!("conn {conn}: {block} block begins"));
            return None;
        }
        other => {
            log(&format!("conn {conn}: {}", other.name()));
            return None;
        }
    }
    Some(Value::Object(m))
}

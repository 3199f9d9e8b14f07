//! Metrics in the Prometheus (OpenMetrics) text format, encoded by `prometheus-client`,
//! served at `GET /metrics` by one small thread on a std `TcpListener`.
//!
//! Each scrape builds a fresh registry of constant values from the library's
//! `Counters` (one per worker, summed), the swarm store's totals and the process's
//! resident memory: nothing is counted twice and the hot path never touches the
//! registry.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use trackwire::udp::{ByFamily, CounterSnapshot, Counters};

use super::swarm::Store;

/// What the metrics read from.
pub(crate) struct Sources {
    pub(crate) counters: Vec<Arc<Counters>>,
    pub(crate) store: Arc<Store>,
    /// Datagrams that filled the whole receive buffer (so may have been cut): dropped
    /// unanswered.
    pub(crate) truncated: Arc<AtomicU64>,
    /// Successful SIGHUP reloads, and failed ones.
    pub(crate) reloads: Arc<[AtomicU64; 2]>,
}

impl Sources {
    /// Every worker's counters added up.
    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        self.counters
            .iter()
            .fold(CounterSnapshot::default(), |acc, c| acc.add(&c.snapshot()))
    }
}

type Labels = Vec<(&'static str, &'static str)>;

fn by_family(reg: &mut Registry, name: &str, help: &str, extra: Labels, v: ByFamily) {
    let fam = Family::<Labels, Counter>::default();
    for (f, n) in [("ipv4", v.ipv4), ("ipv6", v.ipv6)] {
        let mut l = extra.clone();
        l.push(("family", f));
        fam.get_or_create(&l).inc_by(n);
    }
    reg.register(name, help, fam);
}

fn gauge(reg: &mut Registry, name: &str, help: &str, v: u64) {
    reg.register(
        name,
        help,
        ConstGauge::new(i64::try_from(v).unwrap_or(i64::MAX)),
    );
}

/// The resident set size in bytes (Linux: VmRSS of /proc/self/status), 0 elsewhere.
pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb.saturating_mul(1024))
}

/// The whole exposition.
pub(crate) fn render(src: &Sources) -> String {
    let s = src.snapshot();
    let st = src.store.stats();
    let mut reg = Registry::with_prefix("trackwire");
    let requests = [
        ("connect", s.connect),
        ("announce", s.announce),
        ("scrape", s.scrape),
        ("error", s.error_packets),
        ("invalid", s.invalid),
    ];
    let fam = Family::<Labels, Counter>::default();
    for (kind, v) in requests {
        for (f, n) in [("ipv4", v.ipv4), ("ipv6", v.ipv6)] {
            fam.get_or_create(&vec![("kind", kind), ("family", f)])
                .inc_by(n);
        }
    }
    reg.register(
        "requests",
        "Datagrams received, by action and address family",
        fam,
    );
    let fam = Family::<Labels, Counter>::default();
    for (kind, v) in [
        ("connect", s.connect_replies),
        ("announce", s.announce_replies),
        ("scrape", s.scrape_replies),
        ("error", s.error_replies),
        ("other", s.other_replies),
    ] {
        for (f, n) in [("ipv4", v.ipv4), ("ipv6", v.ipv6)] {
            fam.get_or_create(&vec![("kind", kind), ("family", f)])
                .inc_by(n);
        }
    }
    reg.register(
        "replies",
        "Datagrams sent, by action and address family",
        fam,
    );
    by_family(
        &mut reg,
        "received_bytes",
        "Bytes of the datagrams received",
        vec![],
        s.bytes_in,
    );
    by_family(
        &mut reg,
        "sent_bytes",
        "Bytes of the datagrams sent",
        vec![],
        s.bytes_out,
    );
    let r = s.rejected;
    let fam = Family::<Labels, Counter>::default();
    for (why, n) in [
        ("bad_connection_id", r.bad_connection_id),
        ("malformed", r.malformed),
        ("unknown_action", r.unknown_action),
        ("not_allowed", r.not_allowed),
        ("unauthorized", r.unauthorized),
        ("passkey_required", r.url_data_required),
    ] {
        fam.get_or_create(&vec![("reason", why)]).inc_by(n);
    }
    reg.register(
        "rejected",
        "Error replies written by the triage, by reason",
        fam,
    );
    let d = s.dropped;
    let fam = Family::<Labels, Counter>::default();
    for (why, n) in [
        ("malformed", d.malformed),
        ("error_packet", d.error_packet),
        ("oversized", d.oversized),
        ("reply_buffer", d.reply_buffer),
        ("rate_limited", d.rate_limited),
        ("truncated", src.truncated.load(Ordering::Relaxed)),
    ] {
        fam.get_or_create(&vec![("reason", why)]).inc_by(n);
    }
    reg.register("dropped", "Datagrams dropped unanswered, by reason", fam);
    gauge(&mut reg, "torrents", "Torrents held", st.torrents);
    let fam = Family::<Labels, prometheus_client::metrics::gauge::Gauge>::default();
    for (f, n) in [("ipv4", st.totals.peers[0]), ("ipv6", st.totals.peers[1])] {
        fam.get_or_create(&vec![("family", f)])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    reg.register("peers", "Peer addresses held, by address family", fam);
    gauge(
        &mut reg,
        "seeders",
        "Seeding clients (a dual-stack client counts once)",
        st.totals.seeders,
    );
    gauge(
        &mut reg,
        "leechers",
        "Leeching clients (a dual-stack client counts once)",
        st.totals.leechers,
    );
    reg.register("sweeps", "Expiry sweeps run", ConstCounter::new(st.sweeps));
    reg.register(
        "expired_peers",
        "Peer addresses dropped by the sweep",
        ConstCounter::new(st.expired_peers),
    );
    reg.register(
        "freed_torrents",
        "Empty torrents freed by the sweep",
        ConstCounter::new(st.freed_torrents),
    );
    reg.register(
        "reloads",
        "SIGHUP reloads of the access list and passkeys that succeeded",
        ConstCounter::new(src.reloads[0].load(Ordering::Relaxed)),
    );
    reg.register(
        "reload_failures",
        "SIGHUP reloads that failed (the old lists stay)",
        ConstCounter::new(src.reloads[1].load(Ordering::Relaxed)),
    );
    gauge(
        &mut reg,
        "resident_memory_bytes",
        "Resident set size of the process",
        rss_bytes(),
    );
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &reg);
    out
}

/// Answers one HTTP request: `GET /metrics` gets the exposition, anything else 404.
fn answer(stream: TcpStream, src: &Sources) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    // The request line, then headers up to the blank line (read and ignored); bounded.
    reader.by_ref().take(8192).read_line(&mut line)?;
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        if reader.by_ref().take(8192).read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (status, ctype, body) = match (parts.next(), parts.next()) {
        (Some("GET"), Some("/metrics")) => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            render(src),
        ),
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "GET /metrics\n".to_string(),
        ),
    };
    let mut w = &stream;
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

/// Serves metrics on `listener` until `stop` is set (checked between connections and
/// every 100 ms while idle).
pub(crate) fn serve(listener: TcpListener, src: &Sources, stop: &AtomicBool) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // One slow client must not hold the others forever: short timeouts above.
                let _ = stream.set_nonblocking(false);
                let _ = answer(stream, src);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

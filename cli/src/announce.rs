//! `trackwire announce`: one torrent announced to UDP trackers in BEP 12 tiers, over
//! IPv4 and IPv6, through the library's `udp::Announcer`; or, with `--scrape`, one
//! `udp::Client` scrape per tracker.
//!
//! The announce side is a thin std loop over the announcer, the same loop as the tokio
//! driver's `announce_tiers`: every protocol decision (tier walk, failover across
//! addresses, retries, which reply counts) is the announcer's. This file owns two
//! sockets (one per family, each read by its own thread), the clock, and the resolver
//! (`ToSocketAddrs` on a thread per name, so a slow name holds back no other tracker).
//! Inputs from those threads reach the loop through one channel.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use trackwire::udp::{
    AnnounceMode, AnnounceParams, Announcer, AnnouncerConfig, AnnouncerEvent, Client, ClientConfig,
    ClientEvent, InfoHash, PeerId, Received, Response, RetryPolicy, TailConfig, TrackerError,
    TrackerHost, TrackerId, TrackerState, TrackerStatus, TrackerUrl,
};
use trackwire::StdClock;

use crate::cli::{AnnounceArgs, Mode, Retry};
use crate::failure::{Failure, FAILED, UNREACHABLE};
use crate::udp_json;

/// The most trackers one run announces to; further ones show as not working. Torrents
/// with dozens of UDP trackers exist; more than this is a list nobody curates.
const MAX_TRACKERS: usize = 64;

/// The announcer this command runs: [`MAX_TRACKERS`] trackers, 2 exchanges per address,
/// 8 addresses per tracker (both families), 1000 merged peers: about 0.7 MiB, boxed.
type Engine = Announcer<MAX_TRACKERS, 2, 8, 1000>;

/// How long the run waits, once every tracker's result is known, for the other family's
/// answers still in flight (their peers are merged too).
const OTHER_FAMILY_GRACE: Duration = Duration::from_secs(1);

/// Parses `udp://HOST:PORT[/path?query]` with the library's [`TrackerUrl`]; a usage
/// error that says what is wrong and at which byte otherwise.
pub(crate) fn tracker_url(url: &str) -> Result<TrackerUrl<'_>, Failure> {
    TrackerUrl::parse(url)
        .map_err(|e| Failure::Usage(format!("{url}: {e}; expected udp://HOST:PORT[/path?query]")))
}

/// `HOST:PORT` of a tracker URL, as `ToSocketAddrs` resolves it (IPv6 in brackets).
pub(crate) fn authority(url: &TrackerUrl<'_>) -> String {
    match url.host() {
        TrackerHost::Name(name) => format!("{name}:{}", url.port()),
        TrackerHost::Ipv4(ip) => format!("{ip}:{}", url.port()),
        TrackerHost::Ipv6(ip) => format!("[{ip}]:{}", url.port()),
    }
}

/// The trackers and torrent a run is about, from the command line and the .torrent.
struct Job {
    info_hash: [u8; 20],
    /// URLs tier by tier, in the order given.
    tiers: Vec<Vec<String>>,
}

/// Gathers the trackers and the info hash; usage errors for what cannot make a run, a
/// failure (exit 1) for a .torrent that cannot be read.
fn job(a: &AnnounceArgs) -> Result<Job, Failure> {
    // A URL always has a scheme; anything else names a file.
    let (urls, files): (Vec<&String>, Vec<&String>) =
        a.targets.iter().partition(|t| t.contains("://"));
    if files.len() > 1 {
        return Err(Failure::Usage(format!(
            "one .torrent at a time (got {}); tracker URLs start with udp://",
            files.len()
        )));
    }
    let torrent = match files.first() {
        Some(path) => Some(crate::torrent::read(Path::new(path.as_str()))?),
        None => None,
    };
    let info_hash = match (&torrent, a.info_hash) {
        (Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "--info-hash and a .torrent both name the torrent: give one".into(),
            ))
        }
        (Some(t), None) => t.info_hash,
        (None, Some(h)) => h,
        (None, None) => {
            return Err(Failure::Usage(
                "--info-hash HEX40 is required unless a .torrent is given".into(),
            ))
        }
    };
    let mut tiers = torrent.map(|t| t.tiers).unwrap_or_default();
    for tier in &a.tiers {
        let urls: Vec<String> = tier
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect();
        if urls.is_empty() {
            return Err(Failure::Usage(format!("--tier {tier:?} lists no URL")));
        }
        tiers.push(urls);
    }
    tiers.extend(urls.into_iter().map(|u| vec![u.clone()]));
    if tiers.is_empty() {
        return Err(Failure::Usage(
            "no trackers: give udp:// URLs, --tier URL[,URL…] or a .torrent".into(),
        ));
    }
    Ok(Job { info_hash, tiers })
}

/// The retry schedule of each tracker address: `--retry`, cut to `--timeout` when that
/// is shorter (four evenly spaced sends, so that a lost datagram is still retried).
fn retry_policy(retry: Retry, timeout: Option<u64>) -> RetryPolicy {
    let base = match retry {
        Retry::Seed => RetryPolicy::SEED,
        Retry::Bep15 => RetryPolicy::BEP15,
    };
    match timeout.map(Duration::from_secs) {
        Some(limit) if limit < base.give_up_after() => RetryPolicy {
            initial_timeout: limit / 4,
            backoff: 1,
            max_sends: 4,
        },
        _ => base,
    }
}

/// Runs `announce`.
pub(crate) fn run(a: &AnnounceArgs) -> Result<ExitCode, Failure> {
    let job = job(a)?;
    let mut params = AnnounceParams::new(
        InfoHash(job.info_hash),
        PeerId(a.peer_id.unwrap_or_else(|| {
            let mut id = *b"-TW0001-............";
            id[8..].copy_from_slice(&crate::random::bytes::<12>());
            id
        })),
        a.port,
    );
    params.num_want = a.num_want;
    // BEP 15: the same random key over IPv4 and IPv6 (the announcer sends it from both).
    params.key = u32::from_be_bytes(crate::random::bytes());
    params.left = a.left;
    params.downloaded = a.downloaded;
    params.uploaded = a.uploaded;
    let retry = retry_policy(a.retry, a.timeout);
    if a.scrape {
        let urls: Vec<String> = job.tiers.into_iter().flatten().collect();
        return Ok(scrape_all(&urls, params.info_hash, retry, a.json));
    }
    let mode = match a.mode {
        Mode::Tiers => AnnounceMode::Tiers,
        Mode::AllTiers => AnnounceMode::AllTiers,
        Mode::All => AnnounceMode::AllTrackers,
    };
    let config = AnnouncerConfig::new().with_mode(mode).with_retry(retry);
    let seed = u64::from_be_bytes(crate::random::bytes());
    let mut table = Table::new(a.json);
    let summary = announce_tiers(&job.tiers, config, params, seed, |r| table.row(r))?;
    table.finish(&summary);
    Ok(if summary.any_working() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(UNREACHABLE)
    })
}

// ---- the announce loop -----------------------------------------------------------------

/// One tracker's result.
#[derive(Debug, Clone)]
struct TrackerReport {
    url: String,
    tier: usize,
    state: TrackerState,
    /// The last error: the tracker's text exactly as sent (lossy UTF-8), a timeout, a
    /// malformed reply, a name that did not resolve, or a URL that did not parse.
    message: Option<String>,
    seeders: Option<u32>,
    leechers: Option<u32>,
    /// Peers it handed out (both families, duplicates included).
    peers: usize,
}

/// What one announce over every tier gave.
struct Summary {
    /// One report per URL, in the order given.
    trackers: Vec<TrackerReport>,
    /// The peers of every tracker and both families, merged and de-duplicated.
    peers: Vec<SocketAddr>,
}

impl Summary {
    fn any_working(&self) -> bool {
        self.trackers
            .iter()
            .any(|t| t.state == TrackerState::Working)
    }
}

/// One URL of the command line or torrent, and what became of it.
struct Slot {
    url: String,
    tier: usize,
    /// The announcer's id, when it took the tracker.
    id: Option<TrackerId>,
    /// The port to resolve the name with.
    port: u16,
    /// The resolver's error, kept because the announcer records only that the name did
    /// not resolve.
    resolve_error: Option<String>,
    /// The report, once final.
    done: Option<TrackerReport>,
}

impl Slot {
    fn report(&self, status: &TrackerStatus) -> TrackerReport {
        let message = match (status.last_error, &self.resolve_error) {
            (Some(TrackerError::Resolve), Some(why)) => Some(why.clone()),
            (e, _) => e.map(|e| e.to_string()),
        };
        TrackerReport {
            url: self.url.clone(),
            tier: self.tier,
            state: status.state,
            message,
            seeders: status.seeders,
            leechers: status.leechers,
            peers: status.peers_received,
        }
    }

    fn refused(&self, message: String) -> TrackerReport {
        TrackerReport {
            url: self.url.clone(),
            tier: self.tier,
            state: TrackerState::NotWorking,
            message: Some(message),
            seeders: None,
            leechers: None,
            peers: 0,
        }
    }
}

/// A tracker's answer is final for this one-shot run: it answered, or its turn is over.
/// (A tracker that answered over one family may still wait on the other; its result is
/// known all the same.)
fn settled(status: &TrackerStatus) -> bool {
    status.state == TrackerState::Working
        || (status.state == TrackerState::NotWorking && !status.announcing)
}

/// What the socket readers and resolvers hand the loop.
enum Input {
    Datagram(Vec<u8>, SocketAddr),
    Resolved(TrackerId, Result<Vec<IpAddr>, String>),
}

/// Builds the engine on a short-lived thread with a large stack: `Box::new` builds its
/// value on the stack first, and a debug build copies a value this size several times.
fn build(
    config: AnnouncerConfig,
    params: AnnounceParams,
    seed: u64,
) -> Result<Box<Engine>, Failure> {
    std::thread::Builder::new()
        .name("announcer-build".into())
        .stack_size(64 << 20)
        .spawn(move || Engine::new_sized(config, params, seed).map(Box::new))
        .map_err(|e| Failure::Failed(format!("cannot start a thread: {e}")))?
        .join()
        .map_err(|_| Failure::Failed("building the announcer panicked".into()))?
        .map_err(|e| Failure::Failed(format!("announcer: {e}")))
}

/// Reads `socket` forever, handing each datagram to the loop; ends when the loop is gone.
fn reader(socket: UdpSocket, tx: mpsc::Sender<Input>) {
    let mut buf = vec![0u8; 65536];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let datagram = buf.get(..n).unwrap_or_default().to_vec();
                if tx.send(Input::Datagram(datagram, from)).is_err() {
                    return;
                }
            }
            // An ICMP error surfacing on the socket: the retry policy deals with it.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Announces `params` once to `tiers` (each inner list one tier, in order) the way
/// `config.mode` says, calling `on_report` for each tracker as soon as its result is
/// known. URLs that do not parse (and trackers beyond [`MAX_TRACKERS`]) are reported
/// first, as not working. Returns when no tracker is being announced to any more;
/// trackers the walk never reached stay `not_contacted`.
fn announce_tiers(
    tiers: &[Vec<String>],
    config: AnnouncerConfig,
    params: AnnounceParams,
    seed: u64,
    mut on_report: impl FnMut(&TrackerReport),
) -> Result<Summary, Failure> {
    let clock = StdClock::new();
    let mut ann = build(config, params, seed)?;
    let mut slots: Vec<Slot> = Vec::new();
    for (tier, urls) in tiers.iter().enumerate() {
        for url in urls {
            let mut slot = Slot {
                url: url.clone(),
                tier,
                id: None,
                port: 0,
                resolve_error: None,
                done: None,
            };
            let added = TrackerUrl::parse(url)
                .map_err(|e| format!("bad URL: {e}"))
                .and_then(|u| {
                    slot.port = u.port();
                    ann.add_tracker(tier, u).map_err(|e| match e.kind() {
                        trackwire::UsageErrorKind::Full => {
                            format!("not announced to: more than {MAX_TRACKERS} trackers")
                        }
                        _ => format!("not announced to: {e}"),
                    })
                });
            match added {
                Ok(id) => slot.id = Some(id),
                Err(message) => {
                    let r = slot.refused(message);
                    on_report(&r);
                    slot.done = Some(r);
                }
            }
            slots.push(slot);
        }
    }
    let (tx, rx) = mpsc::channel::<Input>();
    let v4 = UdpSocket::bind("0.0.0.0:0")
        .map_err(|e| Failure::Failed(format!("cannot bind an IPv4 socket: {e}")))?;
    // No IPv6 stack: the announcer's IPv6 addresses then time out like silent ones.
    let v6 = UdpSocket::bind("[::]:0").ok();
    for socket in std::iter::once(&v4).chain(v6.as_ref()) {
        let copy = socket
            .try_clone()
            .map_err(|e| Failure::Failed(format!("cannot share a socket: {e}")))?;
        let tx = tx.clone();
        std::thread::spawn(move || reader(copy, tx));
    }
    let mut out = vec![0u8; Engine::MAX_TRANSMIT_LEN];
    // When every tracker's result became known.
    let mut settled_at: Option<std::time::Instant> = None;
    ann.start(clock.now())
        .map_err(|e| Failure::Failed(format!("announcer: {e}")))?;
    loop {
        // 1. Outputs: datagrams, then events (name lookups run on their own threads).
        while let Some(t) = ann
            .poll_transmit(clock.now(), &mut out)
            .map_err(|e| Failure::Failed(format!("announcer: {e}")))?
        {
            let socket = if t.destination.is_ipv6() {
                v6.as_ref()
            } else {
                Some(&v4)
            };
            if let Some(s) = socket {
                // A send error (unreachable, no route) is left to the retry policy.
                let _ = s.send_to(out.get(..t.len).unwrap_or_default(), t.destination);
            }
        }
        while let Some(event) = ann.poll_event() {
            if let AnnouncerEvent::Resolve { tracker, host } = event {
                let port = slots
                    .iter()
                    .find(|s| s.id == Some(tracker))
                    .map_or(0, |s| s.port);
                let name = host.as_str().to_string();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let ips = (name.as_str(), port)
                        .to_socket_addrs()
                        .map(|addrs| addrs.map(|a| a.ip()).collect())
                        .map_err(|e| format!("cannot resolve {name}:{port}: {e}"));
                    let _ = tx.send(Input::Resolved(tracker, ips));
                });
            }
        }
        // 2. Report the trackers whose result just became known.
        for slot in &mut slots {
            let Some(status) = slot.id.and_then(|id| ann.status(id)) else {
                continue;
            };
            if slot.done.is_none() && settled(status) {
                let r = slot.report(status);
                on_report(&r);
                slot.done = Some(r);
            }
        }
        let busy = slots.iter().any(|s| {
            s.done.is_none()
                && s.id
                    .and_then(|id| ann.status(id))
                    .is_some_and(|st| st.state == TrackerState::Updating)
        });
        if !busy {
            // Every result is known, but a tracker that answered over one family may
            // have the other's answer (and its peers) a moment away: wait for it, a
            // little. A dead family does not hold the run for its whole retry policy.
            let now = std::time::Instant::now();
            let linger = *settled_at.get_or_insert(now);
            if !ann.is_announcing() || now.duration_since(linger) >= OTHER_FAMILY_GRACE {
                break;
            }
        }
        // 3. Wait for a datagram, a resolver's answer or the next deadline.
        let now = clock.now();
        let mut wait = ann.poll_timeout().map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(now)
        });
        if let Some(at) = settled_at {
            wait = wait.min(OTHER_FAMILY_GRACE.saturating_sub(at.elapsed()));
        }
        match rx.recv_timeout(wait) {
            Ok(Input::Datagram(bytes, from)) => {
                // Rejected datagrams (strays, spoofs) change nothing; nothing to report.
                let _ = ann.handle_datagram(clock.now(), from, &bytes);
            }
            Ok(Input::Resolved(tracker, ips)) => {
                let now = clock.now();
                // An answer after the announcer gave up on the name is refused; harmless.
                let _ = match ips {
                    Ok(ips) => ann.resolved(now, tracker, &ips),
                    Err(why) => {
                        if let Some(s) = slots.iter_mut().find(|s| s.id == Some(tracker)) {
                            s.resolve_error = Some(why);
                        }
                        ann.resolve_failed(now, tracker)
                    }
                };
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // The sender kept here never goes away; nothing else can end the channel.
            Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        // Idempotent, and a no-op before the earliest deadline.
        ann.handle_timeout(clock.now());
    }
    let trackers = slots
        .iter()
        .map(|s| {
            // The latest status: it counts the answers that came while lingering.
            match (s.id.and_then(|id| ann.status(id)), &s.done) {
                (Some(status), _) => s.report(status),
                (None, Some(done)) => done.clone(),
                (None, None) => s.refused("not announced to".into()),
            }
        })
        .collect();
    Ok(Summary {
        trackers,
        peers: ann.peers().collect(),
    })
}

// ---- output ----------------------------------------------------------------------------

/// The status table (rows as results arrive), or the one JSON object at the end.
struct Table {
    json: bool,
    header: bool,
    printed: Vec<String>,
}

impl Table {
    fn new(json: bool) -> Self {
        Table {
            json,
            header: false,
            printed: Vec::new(),
        }
    }

    fn row(&mut self, r: &TrackerReport) {
        if self.json {
            return;
        }
        if !self.header {
            self.header = true;
            crate::out::line(&format!(
                "{:<4} {:<13} {:>7} {:>8} {:>5}  {}",
                "TIER", "STATUS", "SEEDERS", "LEECHERS", "PEERS", "URL  MESSAGE"
            ));
        }
        let num = |n: Option<u32>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        let message = r
            .message
            .as_ref()
            .map_or_else(String::new, |m| format!("  {m}"));
        crate::out::line(&format!(
            "{:<4} {:<13} {:>7} {:>8} {:>5}  {}{message}",
            r.tier,
            r.state.name(),
            num(r.seeders),
            num(r.leechers),
            r.peers,
            r.url
        ));
        self.printed.push(r.url.clone());
    }

    /// Prints what is left: the trackers never settled, then the merged peers (text), or
    /// the whole result (JSON).
    fn finish(&mut self, s: &Summary) {
        if self.json {
            let trackers: Vec<Value> = s
                .trackers
                .iter()
                .map(|t| {
                    json!({
                        "url": t.url,
                        "tier": t.tier,
                        "status": t.state.name(),
                        "message": t.message,
                        "seeders": t.seeders,
                        "leechers": t.leechers,
                        "peers": t.peers,
                    })
                })
                .collect();
            let peers: Vec<String> = s.peers.iter().map(ToString::to_string).collect();
            crate::out::json(&json!({"trackers": trackers, "peers": peers}));
            return;
        }
        let mut rest: Vec<&TrackerReport> = s.trackers.iter().collect();
        // Each URL once, in case the same URL was given twice: count, not membership.
        for url in std::mem::take(&mut self.printed) {
            if let Some(i) = rest.iter().position(|r| r.url == url) {
                rest.remove(i);
            }
        }
        for r in rest {
            self.row(r);
        }
        crate::out::line(&format!(
            "{} peer{}",
            s.peers.len(),
            if s.peers.len() == 1 { "" } else { "s" }
        ));
        for p in &s.peers {
            crate::out::line(&format!("  {p}"));
        }
    }
}

// ---- --scrape --------------------------------------------------------------------------

/// How one tracker's scrape ended.
enum Outcome {
    /// The reply, as `decode udp` prints it.
    Reply(Value),
    /// The tracker's error message, or a URL that does not parse.
    Refused(Value),
    /// No reply in time, or no address.
    Unreachable(String),
}

/// Scrapes `info_hash` from every URL at once, one thread each, printing each result as
/// it arrives; the exit status is the worst of them.
fn scrape_all(
    urls: &[String],
    info_hash: InfoHash,
    retry: RetryPolicy,
    json_out: bool,
) -> ExitCode {
    let worst = std::thread::scope(|s| {
        let handles: Vec<_> = urls
            .iter()
            .map(|url| {
                s.spawn(move || {
                    let outcome = scrape(url, info_hash, retry);
                    print(url, &outcome, json_out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(FAILED))
            .max()
            .unwrap_or(0)
    });
    ExitCode::from(worst)
}

/// Prints one tracker's outcome; returns its exit status.
fn print(url: &str, o: &Outcome, json_out: bool) -> u8 {
    match o {
        Outcome::Reply(v) | Outcome::Refused(v) => {
            if json_out {
                crate::out::json(&with_url(v, url));
            } else {
                crate::out::line(&format!("{url}: {}", summary(v)));
            }
            if matches!(o, Outcome::Reply(_)) {
                0
            } else {
                FAILED
            }
        }
        Outcome::Unreachable(why) => {
            if json_out {
                crate::out::json(&json!({"url": url, "error": "timeout", "message": why}));
            }
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("trackwire: {url}: {why}\n"),
            );
            UNREACHABLE
        }
    }
}

/// The reply's JSON with the tracker's URL first.
fn with_url(v: &Value, url: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("url".into(), json!(url));
    if let Value::Object(fields) = v {
        m.extend(fields.clone());
    }
    Value::Object(m)
}

/// One line for people: the reply's gist.
fn summary(v: &Value) -> String {
    match v["type"].as_str() {
        Some("scrape_response") => {
            let f = &v["files"][0];
            format!(
                "{} seeders (complete), {} leechers (incomplete), {} downloaded",
                f["complete"], f["incomplete"], f["downloaded"]
            )
        }
        Some("error") => format!("error reply: {}", v["message"]),
        _ => match v["error"].as_str() {
            Some("bad_url") => format!("bad URL: {}", v["message"].as_str().unwrap_or("")),
            _ => v.to_string(),
        },
    }
}

/// One scrape exchange with one tracker through `udp::Client`, driven over a blocking
/// socket until it ends.
fn scrape(url: &str, info_hash: InfoHash, retry: RetryPolicy) -> Outcome {
    let parsed = match TrackerUrl::parse(url) {
        Ok(u) => u,
        Err(e) => return Outcome::Refused(json!({"error": "bad_url", "message": e.to_string()})),
    };
    let authority = authority(&parsed);
    let tracker: SocketAddr = match authority.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) => return Outcome::Unreachable(format!("{authority} has no address")),
        Err(e) => return Outcome::Unreachable(format!("cannot resolve {authority}: {e}")),
    };
    let tail = match parsed.url_data() {
        "" => TailConfig::None,
        data => TailConfig::UrlData(data.as_bytes()),
    };
    let config = ClientConfig::new(tracker).with_retry(retry).with_tail(tail);
    let seed = u64::from_be_bytes(crate::random::bytes());
    let mut client = match Client::<1>::new_sized(config, seed) {
        Ok(c) => c,
        Err(e) => return Outcome::Refused(json!({"error": "usage", "message": e.to_string()})),
    };
    let bind = if tracker.is_ipv6() {
        SocketAddr::from(([0u16; 8], 0))
    } else {
        SocketAddr::from(([0u8; 4], 0))
    };
    let socket = match UdpSocket::bind(bind) {
        Ok(s) => s,
        Err(e) => return Outcome::Unreachable(format!("cannot bind {bind}: {e}")),
    };
    let clock = StdClock::new();
    if let Err(e) = client.scrape(clock.now(), &[info_hash]) {
        return Outcome::Refused(json!({"error": "usage", "message": e.to_string()}));
    }
    let mut out = [0u8; Client::<1>::MAX_TRANSMIT_LEN];
    let mut inbuf = [0u8; 65536];
    loop {
        while let Ok(Some(tx)) = client.poll_transmit(clock.now(), &mut out) {
            // A failed send shows up as a timeout; the retry policy covers transient ones.
            let _ = socket.send_to(out.get(..tx.len).unwrap_or_default(), tx.destination);
        }
        if let Some(event) = client.poll_event() {
            return match event {
                ClientEvent::TimedOut { .. } => Outcome::Unreachable(format!(
                    "no reply from {tracker} (timeout after {} s)",
                    retry.give_up_after().as_secs_f64()
                )),
                other => Outcome::Unreachable(format!(
                    "exchange {} with {tracker} ended without a reply",
                    other.id()
                )),
            };
        }
        let wait = client.poll_timeout().map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(clock.now())
        });
        let _ = socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match socket.recv_from(&mut inbuf) {
            Ok((n, from)) => {
                match client.handle_datagram(clock.now(), from, inbuf.get(..n).unwrap_or_default())
                {
                    Ok(Received::Scraped { response, .. }) => {
                        return Outcome::Reply(udp_json::response_json(&Response::Scrape(
                            *response.response(),
                        )))
                    }
                    Ok(Received::Failed { error, .. } | Received::ConnectFailed { error, .. }) => {
                        return Outcome::Refused(udp_json::response_json(&Response::Error(error)))
                    }
                    Ok(
                        Received::Malformed { error, .. }
                        | Received::ConnectMalformed { error, .. },
                    ) => {
                        return Outcome::Refused(json!({
                            "error": "malformed",
                            "message": format!("malformed reply: {error}"),
                        }))
                    }
                    // Replies that change nothing (a connect, a stray datagram) keep it going.
                    Ok(_) | Err(_) => {}
                }
            }
            Err(_) => {
                // A read timeout, or an ICMP error surfacing: time decides what follows.
                std::thread::sleep(Duration::from_millis(1));
                client.handle_timeout(clock.now());
            }
        }
    }
}

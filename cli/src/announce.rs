//! `trackwire announce`: announce to (or scrape) UDP trackers, a thin std loop over
//! `udp::Client` per tracker, one thread each, each result printed as it arrives.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use trackwire::udp::{
    AnnounceEvent, AnnounceParams, Client, ClientConfig, ClientEvent, InfoHash, PeerId, Received,
    Response, RetryPolicy, TailConfig, TrackerHost, TrackerUrl,
};
use trackwire::StdClock;

use crate::cli::{AnnounceArgs, Event, Retry};
use crate::failure::{Failure, FAILED, UNREACHABLE};
use crate::udp_json;

/// A tracker URL split into what the socket needs and what travels in the datagram.
struct Target {
    url: String,
    /// `HOST:PORT`, resolved when the exchange starts.
    authority: String,
    /// The path and query: BEP 41 URLData.
    url_data: Vec<u8>,
}

/// How one tracker's exchange ended.
enum Outcome {
    /// The reply, as `decode udp` prints it.
    Reply(Value),
    /// The tracker's error message.
    Refused(Value),
    /// No reply in time, or no address.
    Unreachable(String),
}

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

/// Splits a tracker URL into what the socket needs and what the datagram carries.
fn target(url: &str) -> Result<Target, Failure> {
    let parsed = tracker_url(url)?;
    Ok(Target {
        url: url.to_string(),
        authority: authority(&parsed),
        url_data: parsed.url_data().as_bytes().to_vec(),
    })
}

/// Runs `announce`.
pub(crate) fn run(a: &AnnounceArgs) -> Result<ExitCode, Failure> {
    let targets = a
        .urls
        .iter()
        .map(|u| target(u))
        .collect::<Result<Vec<_>, _>>()?;
    let mut params = AnnounceParams::new(
        InfoHash(a.info_hash),
        PeerId(a.peer_id.unwrap_or_else(|| {
            let mut id = *b"-TW0001-............";
            id[8..].copy_from_slice(&crate::random::bytes::<12>());
            id
        })),
        a.port,
    );
    params.num_want = a.num_want;
    params.key = u32::from_be_bytes(crate::random::bytes());
    params.left = a.left;
    params.downloaded = a.downloaded;
    params.uploaded = a.uploaded;
    params.event = match a.event {
        Event::None => AnnounceEvent::None,
        Event::Started => AnnounceEvent::Started,
        Event::Completed => AnnounceEvent::Completed,
        Event::Stopped => AnnounceEvent::Stopped,
    };
    let retry = match a.retry {
        Retry::Seed => RetryPolicy::SEED,
        Retry::Bep15 => RetryPolicy::BEP15,
    };
    let timeout = a.timeout.map(Duration::from_secs);
    let (scrape, json_out) = (a.scrape, a.json);
    let worst = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| {
                s.spawn(move || {
                    let outcome = exchange(t, params, scrape, retry, timeout);
                    print(t, &outcome, json_out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(FAILED))
            .max()
            .unwrap_or(0)
    });
    Ok(ExitCode::from(worst))
}

/// Prints one tracker's outcome; returns its exit status.
fn print(t: &Target, o: &Outcome, json_out: bool) -> u8 {
    match o {
        Outcome::Reply(v) => {
            if json_out {
                crate::out::json(&with_url(v, t));
            } else {
                crate::out::line(&format!("{}: {}", t.url, summary(v)));
            }
            0
        }
        Outcome::Refused(v) => {
            if json_out {
                crate::out::json(&with_url(v, t));
            } else {
                crate::out::line(&format!("{}: {}", t.url, summary(v)));
            }
            FAILED
        }
        Outcome::Unreachable(why) => {
            if json_out {
                crate::out::json(&json!({"url": t.url, "error": "timeout", "message": why}));
            }
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("trackwire: {}: {why}\n", t.url),
            );
            UNREACHABLE
        }
    }
}

/// The reply's JSON with the tracker's URL first.
fn with_url(v: &Value, t: &Target) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("url".into(), json!(t.url));
    if let Value::Object(fields) = v {
        m.extend(fields.clone());
    }
    Value::Object(m)
}

/// One line for people: the reply's gist.
fn summary(v: &Value) -> String {
    match v["type"].as_str() {
        Some("announce_response") => {
            let peers: Vec<&str> = v["peers"]
                .as_array()
                .map(|p| p.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "interval {} s, {} seeders, {} leechers, {} peers{}{}",
                v["interval"],
                v["seeders"],
                v["leechers"],
                peers.len(),
                if peers.is_empty() { "" } else { ": " },
                peers.join(" ")
            )
        }
        Some("scrape_response") => {
            let f = &v["files"][0];
            format!(
                "{} seeders (complete), {} leechers (incomplete), {} downloaded",
                f["complete"], f["incomplete"], f["downloaded"]
            )
        }
        Some("error") => format!("error reply: {}", v["message"]),
        _ => v.to_string(),
    }
}

/// The library-facing part: one announce or scrape exchange with one tracker through
/// `udp::Client`, driven over a blocking socket until it ends.
fn exchange(
    t: &Target,
    params: AnnounceParams,
    scrape: bool,
    retry: RetryPolicy,
    timeout: Option<Duration>,
) -> Outcome {
    let tracker: SocketAddr = match t.authority.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) => return Outcome::Unreachable(format!("{} has no address", t.authority)),
        Err(e) => return Outcome::Unreachable(format!("cannot resolve {}: {e}", t.authority)),
    };
    let tail = if t.url_data.is_empty() {
        TailConfig::None
    } else {
        TailConfig::UrlData(&t.url_data)
    };
    let config = ClientConfig::new(tracker).with_retry(retry).with_tail(tail);
    let seed = u64::from_be_bytes(crate::random::bytes());
    let mut client = match Client::<1>::new_sized(config, seed) {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Refused(
                json!({"error": "usage", "message": format!("{}: {e}", t.url)}),
            )
        }
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
    let started = std::time::Instant::now();
    let issued = if scrape {
        client.scrape(clock.now(), &[params.info_hash])
    } else {
        client.announce(clock.now(), params)
    };
    if let Err(e) = issued {
        return Outcome::Refused(json!({"error": "usage", "message": e.to_string()}));
    }
    let mut out = [0u8; Client::<1>::MAX_TRANSMIT_LEN];
    let mut inbuf = [0u8; 65536];
    let mut said_unreachable = false;
    loop {
        while let Ok(Some(tx)) = client.poll_transmit(clock.now(), &mut out) {
            // A failed send shows up as a timeout; the retry policy covers transient ones.
            let _ = socket.send_to(out.get(..tx.len).unwrap_or_default(), tx.destination);
        }
        if let Some(event) = client.poll_event() {
            return match event {
                ClientEvent::TimedOut { .. } => Outcome::Unreachable(format!(
                    "no reply from {tracker} (timeout after {} s)",
                    started.elapsed().as_secs()
                )),
                // A refused connect is `handle_datagram`'s `ConnectFailed`, which ends
                // the loop first; time causes nothing else today.
                other => Outcome::Unreachable(format!(
                    "exchange {} with {tracker} ended without a reply",
                    other.id()
                )),
            };
        }
        if let Some(limit) = timeout {
            if started.elapsed() >= limit {
                return Outcome::Unreachable(format!(
                    "no reply from {tracker} within --timeout {} s",
                    limit.as_secs()
                ));
            }
        }
        let mut wait = client.poll_timeout().map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(clock.now())
        });
        if let Some(limit) = timeout {
            wait = wait.min(limit.saturating_sub(started.elapsed()));
        }
        let _ = socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match socket.recv_from(&mut inbuf) {
            Ok((n, from)) => {
                match client.handle_datagram(clock.now(), from, inbuf.get(..n).unwrap_or_default())
                {
                    Ok(Received::Announced { response, .. }) => {
                        return Outcome::Reply(udp_json::response_json(&Response::Announce(
                            response,
                        )))
                    }
                    Ok(Received::Scraped { response, .. }) => {
                        return Outcome::Reply(udp_json::response_json(&Response::Scrape(
                            *response.response(),
                        )))
                    }
                    Ok(Received::Failed { error, .. } | Received::ConnectFailed { error, .. }) => {
                        return Outcome::Refused(udp_json::response_json(&Response::Error(error)))
                    }
                    // Replies that change nothing (a connect, a stray datagram) keep it going.
                    Ok(_) | Err(_) => {}
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                client.handle_timeout(clock.now());
            }
            Err(e) => {
                // ICMP port unreachable surfaces here on Linux; the retry policy handles it.
                if !said_unreachable {
                    said_unreachable = true;
                    let _ = std::io::Write::write_fmt(
                        &mut std::io::stderr(),
                        format_args!("trackwire: {}: {e}; retrying\n", t.url),
                    );
                }
                std::thread::sleep(wait.min(Duration::from_millis(200)));
                client.handle_timeout(clock.now());
            }
        }
    }
}

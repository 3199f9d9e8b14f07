//! Announce to (or scrape) a UDP tracker: a thin std loop over [`trackwire::udp::Client`].
//!
//! ```text
//! cargo run --example announce -- udp://HOST:PORT[/path?query] --info-hash HEX40
//!     [--peer-id HEX40] [--port N] [--event none|started|completed|stopped] [--left N]
//!     [--downloaded N] [--uploaded N] [--num-want N] [--scrape] [--retry seed|bep15]
//!     [--timeout SECS]
//! ```
//!
//! Prints one JSON object for the tracker's response, with the keys of the `decode`
//! example. Exit status: 0 on success, 1 on a tracker error (its message is in the JSON),
//! 2 on a timeout, 64 on a usage error. The path and query of the URL travel as BEP 41
//! URLData.

use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use trackwire::udp::client::{
    AnnounceParams, Client, ClientConfig, ClientEvent, Received, RetryPolicy, TailConfig,
    MAX_DATAGRAM_LEN,
};
use trackwire::udp::{AnnounceEvent, InfoHash, PeerId, Response};
use trackwire::Instant;

#[path = "common/udp_json.rs"]
mod udp_json;

const USAGE: &str = "usage: announce udp://HOST:PORT[/path?query] --info-hash HEX40 [--peer-id HEX40] [--port N] [--event none|started|completed|stopped] [--left N] [--downloaded N] [--uploaded N] [--num-want N] [--scrape] [--retry seed|bep15] [--timeout SECS]";

struct Args {
    tracker: SocketAddr,
    url_data: Vec<u8>,
    params: AnnounceParams,
    scrape: bool,
    retry: RetryPolicy,
    timeout: Option<Duration>,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_err()
    {
        // No /dev/urandom: std's per-process random hash keys instead.
        use std::hash::{BuildHasher, Hasher};
        for (i, x) in b.iter_mut().enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            *x = h.finish() as u8;
        }
    }
    b
}

fn hex20(s: &str, what: &str) -> Result<[u8; 20], String> {
    udp_json::unhex(s)
        .and_then(|v| <[u8; 20]>::try_from(v).ok())
        .ok_or(format!("{what} must be 40 hex digits"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let url = args.next().ok_or("missing tracker URL")?;
    let rest = url
        .strip_prefix("udp://")
        .ok_or("the tracker URL must start with udp://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let tracker = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or(format!("{authority} resolves to nothing"))?;
    let mut info_hash = None;
    let mut peer_id = None;
    let mut params = AnnounceParams::new(InfoHash([0; 20]), PeerId([0; 20]), 6881);
    params.num_want = -1;
    params.key = u32::from_be_bytes(random_bytes());
    let (mut scrape, mut retry, mut timeout) = (false, RetryPolicy::SEED, None);
    while let Some(flag) = args.next() {
        if flag == "--scrape" {
            scrape = true;
            continue;
        }
        let v = args.next().ok_or(format!("{flag} needs a value"))?;
        let num = |what: &str| format!("{what}: not a number: {v}");
        match flag.as_str() {
            "--info-hash" => info_hash = Some(hex20(&v, "--info-hash")?),
            "--peer-id" => peer_id = Some(hex20(&v, "--peer-id")?),
            "--port" => params.port = v.parse().map_err(|_| num("--port"))?,
            "--left" => params.left = v.parse().map_err(|_| num("--left"))?,
            "--downloaded" => params.downloaded = v.parse().map_err(|_| num("--downloaded"))?,
            "--uploaded" => params.uploaded = v.parse().map_err(|_| num("--uploaded"))?,
            "--num-want" => params.num_want = v.parse().map_err(|_| num("--num-want"))?,
            "--event" => {
                params.event = match v.as_str() {
                    "none" => AnnounceEvent::None,
                    "started" => AnnounceEvent::Started,
                    "completed" => AnnounceEvent::Completed,
                    "stopped" => AnnounceEvent::Stopped,
                    _ => return Err(format!("--event: unknown event {v}")),
                }
            }
            "--retry" => {
                retry = match v.as_str() {
                    "seed" => RetryPolicy::SEED,
                    "bep15" => RetryPolicy::BEP15,
                    _ => return Err(format!("--retry: seed or bep15, not {v}")),
                }
            }
            "--timeout" => {
                timeout = Some(Duration::from_secs(
                    v.parse().map_err(|_| num("--timeout"))?,
                ))
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    params.info_hash = InfoHash(info_hash.ok_or("--info-hash is required")?);
    params.peer_id = PeerId(peer_id.unwrap_or_else(|| {
        let mut id = *b"-TW0001-............";
        id[8..].copy_from_slice(&random_bytes::<12>());
        id
    }));
    Ok(Args {
        tracker,
        url_data: path.as_bytes().to_vec(),
        params,
        scrape,
        retry,
        timeout,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("announce: {e}\n{USAGE}");
            return ExitCode::from(64);
        }
    };
    let tail = if args.url_data.is_empty() {
        TailConfig::None
    } else {
        TailConfig::UrlData(&args.url_data)
    };
    let config = ClientConfig::new(args.tracker)
        .with_retry(args.retry)
        .with_tail(tail);
    let mut client = match Client::<1>::new(config, u64::from_be_bytes(random_bytes())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("announce: {e}");
            return ExitCode::from(64);
        }
    };
    let bind: SocketAddr = if args.tracker.is_ipv6() {
        "[::]:0".parse().unwrap()
    } else {
        "0.0.0.0:0".parse().unwrap()
    };
    let socket = match UdpSocket::bind(bind) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("announce: cannot bind {bind}: {e}");
            return ExitCode::from(1);
        }
    };
    let start = std::time::Instant::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let issued = if args.scrape {
        client.scrape(now(), &[args.params.info_hash])
    } else {
        client.announce(now(), args.params)
    };
    if let Err(e) = issued {
        eprintln!("announce: {e}");
        return ExitCode::from(64);
    }
    let mut out = [0u8; MAX_DATAGRAM_LEN];
    let mut inbuf = [0u8; 65536];
    loop {
        // Drain outputs: datagrams, then the deadline, then events.
        while let Ok(Some(t)) = client.poll_transmit(now(), &mut out) {
            if let Err(e) = socket.send_to(&out[..t.len], t.destination) {
                eprintln!("announce: send to {}: {e}", t.destination);
            }
        }
        // The one exchange ending without a reply ends the program.
        if let Some(event) = client.poll_event() {
            match event {
                ClientEvent::TimedOut { .. } => {
                    println!("{}", json!({"error": "timeout"}));
                    return ExitCode::from(2);
                }
                other => {
                    println!("{}", json!({"error": format!("{other:?}")}));
                    return ExitCode::from(1);
                }
            }
        }
        let deadline = client.poll_timeout();
        let t = now();
        if args.timeout.is_some_and(|limit| start.elapsed() >= limit) {
            println!("{}", json!({"error": "timeout"}));
            return ExitCode::from(2);
        }
        let mut wait = deadline
            .map(|d| d.saturating_duration_since(t))
            .unwrap_or(Duration::from_secs(1));
        if let Some(limit) = args.timeout {
            wait = wait.min(limit.saturating_sub(start.elapsed()));
        }
        let _ = socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
        match socket.recv_from(&mut inbuf) {
            Ok((n, from)) => match client.handle_datagram(now(), from, &inbuf[..n]) {
                Ok(Received::Announced { response, .. }) => {
                    println!("{}", udp_json::response_json(&Response::Announce(response)));
                    return ExitCode::SUCCESS;
                }
                Ok(Received::Scraped { response, .. }) => {
                    println!(
                        "{}",
                        udp_json::response_json(&Response::Scrape(*response.response()))
                    );
                    return ExitCode::SUCCESS;
                }
                Ok(Received::Failed { error, .. }) => {
                    println!("{}", udp_json::response_json(&Response::Error(error)));
                    return ExitCode::from(1);
                }
                Ok(Received::ConnectFailed { error, .. }) => {
                    println!("{}", udp_json::response_json(&Response::Error(error)));
                    return ExitCode::from(1);
                }
                Ok(_) => {}
                Err(rejected) => {
                    eprintln!("announce: ignored a datagram from {from}: {rejected:?}")
                }
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                client.handle_timeout(now());
            }
            Err(e) => {
                // ICMP port unreachable surfaces here on Linux; the retry policy handles it.
                eprintln!("announce: receive: {e}");
                std::thread::sleep(wait.min(Duration::from_millis(200)));
                client.handle_timeout(now());
            }
        }
    }
}

//! A flood from one source address: datagrams at a fixed rate, counting the replies, so
//! that a soak run can show whether a tracker limits one noisy source while the probe
//! (another source) is still served.
//!
//! ```text
//! load-flood --target ADDR [--source IP] [--rate PER_S] [--seconds S]
//!            [--kind random|connect] [--size BYTES]
//! ```
//!
//! `random` sends random bytes (what a broken or hostile client sends; trackers drop
//! most of them unanswered); `connect` sends valid connect requests, each of which an
//! unlimited tracker answers, so the reply count shows a rate limit directly. It ends
//! with `flood sent=N replies=M` and a line per second
//! `flood t=S sent=N replies=M`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use trackwire_load::{connect_request, socket, Args};

const USAGE: &str =
    "load-flood --target ADDR [--source IP] [--rate PER_S] [--seconds S] [--kind random|connect] [--size BYTES]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-flood: {e}");
            ExitCode::from(64)
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env(USAGE)?;
    let target: SocketAddr = args
        .get::<String>("target", String::new())?
        .parse()
        .map_err(|e| format!("--target: {e}\nusage: {USAGE}"))?;
    let source: String = args.get("source", "127.0.0.2".to_string())?;
    let rate: u64 = args.get("rate", 1000)?;
    let seconds: u64 = args.get("seconds", 10)?;
    let size: usize = args.get("size", 64)?;
    let kind: String = args.get("kind", "random".to_string())?;
    if kind != "random" && kind != "connect" {
        return Err(format!("--kind {kind:?}: expected random or connect"));
    }
    if rate == 0 || size == 0 || size > 1400 {
        return Err("--rate must be positive and --size within 1..=1400".into());
    }
    let sock = socket(&source, target)?;
    sock.set_nonblocking(true)
        .map_err(|e| format!("nonblocking: {e}"))?;
    let mut rng = SmallRng::seed_from_u64(u64::from(std::process::id()));
    let mut datagram = vec![0u8; size];
    let mut buf = [0u8; 2048];
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let (mut sent, mut replies) = (0u64, 0u64);
    let (mut sec_sent, mut sec_replies) = (0u64, 0u64);
    let mut next_second = start + Duration::from_secs(1);
    let mut tid = 0u32;
    while Instant::now() < end {
        // Send what the elapsed time allows, then drain replies and sleep a millisecond.
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            let d: &[u8] = if kind == "connect" {
                tid = tid.wrapping_add(1);
                datagram[..16].copy_from_slice(&connect_request(tid));
                &datagram[..16]
            } else {
                rng.fill(&mut datagram[..]);
                &datagram[..]
            };
            // A full socket buffer or an ICMP error from an earlier datagram: the datagram
            // counts as sent, as it would for a flooding client.
            let _ = sock.send(d);
            sent += 1;
            sec_sent += 1;
        }
        while let Ok(_n) = sock.recv(&mut buf) {
            replies += 1;
            sec_replies += 1;
        }
        if Instant::now() >= next_second {
            println!(
                "flood t={:.0}s sent={} replies={}",
                start.elapsed().as_secs_f64(),
                sec_sent,
                sec_replies
            );
            sec_sent = 0;
            sec_replies = 0;
            next_second += Duration::from_secs(1);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("flood sent={sent} replies={replies}");
    Ok(())
}

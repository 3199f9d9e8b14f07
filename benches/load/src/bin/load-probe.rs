//! A legitimate client beside the load: announces one or more info hashes at a steady
//! pace from its own source address and counts what comes back, so that a soak run can
//! tell whether ordinary peers are still served under load, under a flood and across a
//! SIGHUP reload.
//!
//! ```text
//! load-probe --target ADDR --hash HEX [--hash HEX]... [--source IP]
//!            [--seconds S] [--interval-ms MS] [--timeout-ms MS] [--report-seconds S]
//! load-probe --target ADDR --hash HEX --until-answered SECS
//! ```
//!
//! With `--until-answered` it retries until one announce is answered in full (exit 0),
//! and exits 2 if the tracker only refused the hash (an 8-byte reply or an error) and 1
//! if it answered nothing: the start-up check of `run.sh` and `soak.sh`.
//!
//! Otherwise it prints a line every `--report-seconds` and, at the end,
//! `probe sent=N announced=A refused=R errors=E lost=L longest_silence_ms=X`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use trackwire_load::{
    announce_request, connect_request, exchange, parse_hash, socket, Args, Reply,
};

const USAGE: &str = "load-probe --target ADDR --hash HEX [--hash HEX]... [--source IP] \
[--seconds S] [--interval-ms MS] [--timeout-ms MS] [--report-seconds S] [--until-answered SECS]";

/// Clients re-connect well inside the 60 s a BEP 15 connection id is good for.
const RECONNECT_AFTER: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("load-probe: {e}");
            ExitCode::from(64)
        }
    }
}

#[derive(Default)]
struct Counts {
    sent: u64,
    announced: u64,
    refused: u64,
    errors: u64,
    lost: u64,
}

struct Probe {
    sock: std::net::UdpSocket,
    timeout: Duration,
    tid: u32,
    cid: Option<(u64, Instant)>,
    peer_id: [u8; 20],
}

impl Probe {
    fn next_tid(&mut self) -> u32 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }

    /// One announce, connecting first when the id is missing or old. `None` when nothing
    /// came back in time (for the connect or the announce).
    fn announce(&mut self, hash: &[u8; 20]) -> Result<Option<Reply>, String> {
        let fresh = self.cid.filter(|(_, at)| at.elapsed() < RECONNECT_AFTER);
        let cid = match fresh {
            Some((cid, _)) => cid,
            None => {
                let tid = self.next_tid();
                let reply = exchange(
                    &self.sock,
                    &connect_request(tid),
                    tid,
                    Instant::now() + self.timeout,
                )
                .map_err(|e| format!("connect: {e}"))?;
                match reply {
                    Some(Reply::Connected(cid)) => {
                        self.cid = Some((cid, Instant::now()));
                        cid
                    }
                    Some(other) => return Ok(Some(other)),
                    None => return Ok(None),
                }
            }
        };
        let tid = self.next_tid();
        let request = announce_request(cid, tid, hash, &self.peer_id, 6881);
        let reply = exchange(&self.sock, &request, tid, Instant::now() + self.timeout)
            .map_err(|e| format!("announce: {e}"))?;
        if matches!(reply, Some(Reply::Error)) {
            // Most likely an expired id: connect again next time.
            self.cid = None;
        }
        Ok(reply)
    }
}

fn run() -> Result<u8, String> {
    let args = Args::from_env(USAGE)?;
    let target: SocketAddr = args
        .get::<String>("target", String::new())?
        .parse()
        .map_err(|e| format!("--target: {e}\nusage: {USAGE}"))?;
    let hashes = args
        .all("hash")
        .into_iter()
        .map(parse_hash)
        .collect::<Result<Vec<_>, _>>()?;
    if hashes.is_empty() {
        return Err(format!("at least one --hash is needed\nusage: {USAGE}"));
    }
    let source: String = args.get("source", "127.0.0.1".to_string())?;
    let mut peer_id = *b"-TWPROBE-00000000000";
    let pid = std::process::id().to_be_bytes();
    peer_id[16..].copy_from_slice(&pid);
    let mut probe = Probe {
        sock: socket(&source, target)?,
        timeout: Duration::from_millis(args.get("timeout-ms", 1000)?),
        tid: std::process::id(),
        cid: None,
        peer_id,
    };

    let until: u64 = args.get("until-answered", 0)?;
    if until > 0 {
        let deadline = Instant::now() + Duration::from_secs(until);
        let mut refused = false;
        while Instant::now() < deadline {
            match probe.announce(&hashes[0])? {
                Some(Reply::Announced) => return Ok(0),
                Some(Reply::Refused | Reply::Error) => refused = true,
                Some(Reply::Connected(_)) | None => {}
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "load-probe: no full announce reply from {target} in {until} s{}",
            if refused {
                " (the hash was refused)"
            } else {
                ""
            }
        );
        return Ok(if refused { 2 } else { 1 });
    }

    let seconds: u64 = args.get("seconds", 60)?;
    let interval = Duration::from_millis(args.get("interval-ms", 100)?);
    let report_every = Duration::from_secs(args.get("report-seconds", 10)?);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut total = Counts::default();
    let mut window = Counts::default();
    let mut last_answer = Instant::now();
    let mut longest_silence = Duration::ZERO;
    let mut next_report = start + report_every;
    let mut next_send = start;
    let mut i = 0usize;
    while Instant::now() < end {
        let hash = hashes[i % hashes.len()];
        i = i.wrapping_add(1);
        let reply = probe.announce(&hash)?;
        for c in [&mut total, &mut window] {
            c.sent += 1;
            match reply {
                Some(Reply::Announced) => c.announced += 1,
                Some(Reply::Refused) => c.refused += 1,
                Some(Reply::Error) => c.errors += 1,
                Some(Reply::Connected(_)) | None => c.lost += 1,
            }
        }
        if reply == Some(Reply::Announced) {
            last_answer = Instant::now();
        }
        longest_silence = longest_silence.max(last_answer.elapsed());
        if Instant::now() >= next_report {
            println!(
                "probe t={:.0}s sent={} announced={} refused={} errors={} lost={}",
                start.elapsed().as_secs_f64(),
                window.sent,
                window.announced,
                window.refused,
                window.errors,
                window.lost
            );
            window = Counts::default();
            next_report += report_every;
        }
        next_send += interval;
        std::thread::sleep(next_send.saturating_duration_since(Instant::now()));
    }
    println!(
        "probe sent={} announced={} refused={} errors={} lost={} longest_silence_ms={}",
        total.sent,
        total.announced,
        total.refused,
        total.errors,
        total.lost,
        longest_silence.as_millis()
    );
    Ok(0)
}

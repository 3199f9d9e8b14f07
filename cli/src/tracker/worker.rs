//! One worker: a loop over one socket, triaged by its own `udp::Server` (sharing the
//! cookie secret with the others, so an id issued by one worker is good at any), with
//! announces and scrapes answered from the shared swarm store.

use std::io::{IoSlice, IoSliceMut, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::socket::{recvmmsg, sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
use trackwire::udp::{
    AnnounceEvent, Dropped, InfoHash, Rejection, Server, ServerAction, SipCookies,
};
use trackwire::StdClock;

use super::access::WorkerHooks;
use super::swarm::{Announce, Store};

/// The receive buffer: one byte more than the largest UDP payload (65 535 bytes less
/// the 8-byte UDP header; IPv6 jumbograms never reach a UDP socket), so every datagram
/// arrives whole and a datagram that fills the buffer is known to be cut.
pub(crate) const RECV_LEN: usize = 65_536;

/// How long a worker blocks before looking at the stop flag and flushing its log.
pub(crate) const TICK: Duration = Duration::from_millis(200);

/// [`TICK`] in milliseconds, as poll takes it.
const TICK_MS: i32 = TICK.as_millis() as i32;

/// The request log is written when it holds this much (or on every tick).
const LOG_FLUSH: usize = 32 * 1024;

/// What every worker shares.
pub(crate) struct Shared<'a> {
    pub(crate) store: &'a Store,
    pub(crate) stop: &'a AtomicBool,
    pub(crate) truncated: &'a AtomicU64,
    pub(crate) log_requests: bool,
    pub(crate) clock: StdClock,
}

/// `h` as 40 lowercase hex digits, on the stack.
fn hex<'a>(h: &InfoHash, out: &'a mut [u8; 40]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(h.0) {
        if let [hi, lo] = pair {
            *hi = DIGITS[usize::from(b >> 4)];
            *lo = DIGITS[usize::from(b & 15)];
        }
    }
    std::str::from_utf8(out).unwrap_or("")
}

fn rejection_text(r: Rejection) -> String {
    match r {
        Rejection::BadConnectionId => "bad connection id".into(),
        Rejection::Malformed(e) => format!("malformed: {e}"),
        Rejection::UnknownAction(a) => format!("unknown action {a}"),
        Rejection::NotAllowed => "info hash not allowed".into(),
        Rejection::Unauthorized => "unauthorized".into(),
        Rejection::UrlDataRequired => "passkey required".into(),
        _ => "refused".into(),
    }
}

fn dropped_text(d: Dropped) -> String {
    match d {
        Dropped::Malformed(e) => format!("malformed: {e}"),
        Dropped::ErrorPacket => "an error packet".into(),
        Dropped::Oversized(r) => format!(
            "{} (the reply would be larger than the request)",
            rejection_text(r)
        ),
        Dropped::ReplyBuffer(e) => format!("reply buffer: {e}"),
        Dropped::RateLimited => "rate limited".into(),
        _ => "dropped".into(),
    }
}

/// Appends one log line for a request to `log` (in memory: written out in blocks).
fn log_line(log: &mut Vec<u8>, from: SocketAddr, n: usize, action: &ServerAction<'_>, len: usize) {
    let _ = write!(log, "{from} {n} bytes: ");
    let _ = match action {
        ServerAction::Connected { .. } => writeln!(log, "connect"),
        ServerAction::Rejected { reason, .. } => {
            writeln!(log, "rejected: {}", rejection_text(*reason))
        }
        ServerAction::Dropped(why) => writeln!(log, "dropped: {}", dropped_text(*why)),
        ServerAction::Announce(a) => {
            let r = &a.request;
            let mut buf = [0u8; 40];
            writeln!(
                log,
                "announce {} event={} left={} num_want={} -> {len} bytes",
                hex(&r.info_hash, &mut buf),
                r.event,
                r.left,
                r.num_want
            )
        }
        ServerAction::Scrape(s) => writeln!(
            log,
            "scrape {} hashes -> {len} bytes",
            s.request.info_hashes.len()
        ),
        _ => writeln!(log, "ignored"),
    };
}

fn flush(log: &mut Vec<u8>) {
    if !log.is_empty() {
        // A closed stderr is not worth stopping the tracker for.
        let _ = std::io::stderr().lock().write_all(log);
        log.clear();
    }
}

/// Datagrams received (and replies sent) per system call: one `recvmmsg` and one
/// `sendmmsg` serve up to this many requests, where the kernel's per-call cost (entry,
/// socket lookup and locking) was a large share of a request's.
const BATCH: usize = 32;

/// A peer address as the socket calls take it.
fn std_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

/// Serves `socket` until the stop flag is set.
pub(crate) fn serve(
    socket: UdpSocket,
    server: Server<SipCookies, WorkerHooks>,
    sh: &Shared<'_>,
    seed: u64,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let fd = socket.as_raw_fd();
    let mut bufs: Vec<Vec<u8>> = (0..BATCH).map(|_| vec![0u8; RECV_LEN]).collect();
    let mut replies = vec![[0u8; 1500]; BATCH];
    let mut rx = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let mut tx = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    // Per batch: each datagram's length and source; each reply's slot, length and address.
    let mut got: Vec<(usize, Option<SocketAddr>)> = Vec::with_capacity(BATCH);
    let mut out: Vec<(usize, usize, SocketAddr)> = Vec::with_capacity(BATCH);
    let mut log = Vec::with_capacity(if sh.log_requests { 2 * LOG_FLUSH } else { 0 });
    while !sh.stop.load(Ordering::Relaxed) {
        got.clear();
        {
            let iovs: Vec<[IoSliceMut<'_>; 1]> = bufs
                .iter_mut()
                .map(|b| [IoSliceMut::new(b.as_mut_slice())])
                .collect();
            // Take what is queued without waiting; only an empty queue waits, in poll
            // (nix's flags lack MSG_WAITFORONE, and a blocking recvmmsg would wait for
            // a whole batch).
            match recvmmsg(fd, &mut rx, &iovs, MsgFlags::MSG_DONTWAIT, None) {
                Ok(msgs) => {
                    got.extend(msgs.map(|m| (m.bytes, m.address.and_then(|a| std_addr(&a)))))
                }
                Err(Errno::EAGAIN | Errno::EINTR) => {
                    flush(&mut log);
                    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
                    // Woken by a datagram or after a tick, to look at the stop flag.
                    let _ = poll(&mut fds, TICK_MS);
                    continue;
                }
                Err(e) => {
                    // ICMP errors from earlier sends (ECONNREFUSED) land here on some
                    // systems: not this datagram's fault, nothing to answer.
                    if sh.log_requests {
                        let _ = writeln!(log, "receive: {e}");
                    }
                    continue;
                }
            }
        }
        out.clear();
        for (i, ((&(n, from), buf), reply)) in
            got.iter().zip(&bufs).zip(replies.iter_mut()).enumerate()
        {
            let Some(from) = from else { continue };
            if n >= buf.len() {
                sh.truncated.fetch_add(1, Ordering::Relaxed);
                if sh.log_requests {
                    let _ = writeln!(
                        log,
                        "{from} at least {n} bytes: dropped: larger than the receive buffer"
                    );
                }
                continue;
            }
            let bytes = buf.get(..n).unwrap_or_default();
            let len = handle(&server, sh, &mut rng, from, bytes, reply, &mut log);
            if len > 0 {
                out.push((i, len, from));
            }
        }
        if out.is_empty() {
            continue;
        }
        let reply_of = |&(i, len, _): &(usize, usize, SocketAddr)| {
            replies
                .get(i)
                .and_then(|r| r.get(..len))
                .unwrap_or_default()
        };
        let slices: Vec<[IoSlice<'_>; 1]> =
            out.iter().map(|o| [IoSlice::new(reply_of(o))]).collect();
        let addrs: Vec<Option<SockaddrStorage>> = out
            .iter()
            .map(|&(_, _, a)| Some(SockaddrStorage::from(a)))
            .collect();
        let sent = match sendmmsg(fd, &mut tx, &slices, &addrs, [], MsgFlags::empty()) {
            Ok(r) => r.count(),
            Err(_) => 0,
        };
        // What the batch call did not send (it stops at the first error) goes one by
        // one, so that each error is seen (and logged) where it belongs.
        for (k, o) in out.iter().enumerate() {
            let (bytes, from) = (reply_of(o), o.2);
            if k < sent {
                server.record_sent(from, bytes);
                continue;
            }
            match socket.send_to(bytes, from) {
                Ok(_) => server.record_sent(from, bytes),
                Err(e) => {
                    if sh.log_requests {
                        let _ = writeln!(log, "send to {from}: {e}");
                    }
                }
            }
        }
    }
    flush(&mut log);
}

/// Answers one datagram into `reply`; returns the reply's length (0: no reply).
fn handle(
    server: &Server<SipCookies, WorkerHooks>,
    sh: &Shared<'_>,
    rng: &mut fastrand::Rng,
    from: SocketAddr,
    bytes: &[u8],
    reply: &mut [u8; 1500],
    log: &mut Vec<u8>,
) -> usize {
    let now = sh.clock.now();
    let action = server.handle_datagram(now, from, bytes, reply);
    let len = match &action {
        ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => *len,
        ServerAction::Announce(a) => {
            let r = &a.request;
            let ann = Announce {
                info_hash: r.info_hash,
                addr: SocketAddr::new(a.from.ip(), r.port),
                client: sh.store.client_id(&r.peer_id.0, r.key),
                seeder: r.left == 0,
                event: r.event,
                now: now.as_millis(),
            };
            let interval = a.interval(rng.u32(..));
            let start = rng.usize(..);
            let want = if r.event == AnnounceEvent::Stopped {
                0
            } else {
                a.peer_limit()
            };
            match sh
                .store
                .announce(&ann, want, start, |leechers, seeders, peers| {
                    a.respond(interval, leechers, seeders, peers, reply)
                }) {
                Ok(written) => written.unwrap_or(0),
                Err(full) => a.reject(full.message(), reply).unwrap_or(0),
            }
        }
        ServerAction::Scrape(s) => server
            .respond_scrape(s, |h| sh.store.row(&h), reply)
            .unwrap_or(0),
        _ => 0,
    };
    if sh.log_requests {
        log_line(log, from, bytes.len(), &action, len);
        if log.len() >= LOG_FLUSH {
            flush(log);
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_on_the_stack() {
        let mut b = [0u8; 40];
        let mut h = [0u8; 20];
        h[0] = 0xab;
        h[19] = 0x0f;
        assert_eq!(
            hex(&InfoHash(h), &mut b),
            format!("ab{}0f", "00".repeat(18))
        );
    }
}

//! The main job in one process, on loopback, in a few seconds:
//!
//! 1. a UDP tracker (`udp::Server`) and two clients (`udp::Client`): connect, announce,
//!    the second announcer receives the first as a peer, scrape;
//! 2. a CTCS server (`ctcs::ServerSession`) and a simulated ctorrent
//!    (`ctcs::ClientSession`) over TCP: status, peers, a download-limit change, quit.
//!
//! Every line on the wire is printed as it goes. `cargo run --example demo`.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use trackwire::ctcs::{
    BlockKind, ClientEvent as CtcsClientEvent, ClientSession, ClientSessionConfig, CtBw, CtPeer,
    PeerFlags, ServerConfig as CtcsServerConfig, ServerEvent, ServerSession, Word,
};
use trackwire::udp::{
    AnnounceEvent, AnnounceParams, Client, ClientConfig, ExchangeId, InfoHash, PeerId, Received,
    Request, RetryPolicy, ScrapeRow, Server, ServerAction, ServerConfig,
};
use trackwire::StdClock;

// ---- UDP ----------------------------------------------------------------------------------

/// The tracker: a thread answering from an in-memory swarm (listen address → seeder?).
fn spawn_tracker(stop: Arc<AtomicBool>) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let addr = socket.local_addr()?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    std::thread::spawn(move || {
        let server = Server::new(ServerConfig::new(), *b"demo secret: use");
        let clock = StdClock::new();
        let swarms: Mutex<HashMap<InfoHash, HashMap<SocketAddr, bool>>> = Mutex::default();
        let (mut buf, mut reply) = ([0u8; 2048], [0u8; 1500]);
        while !stop.load(Ordering::Relaxed) {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let mut swarms = swarms.lock().unwrap_or_else(|e| e.into_inner());
            let len = match server.handle_datagram(clock.now(), from, &buf[..n], &mut reply) {
                ServerAction::Connected { len } | ServerAction::Rejected { len, .. } => len,
                ServerAction::Announce(a) => {
                    let me = SocketAddr::new(a.from.ip(), a.request.port);
                    let swarm = swarms.entry(a.request.info_hash).or_default();
                    swarm.insert(me, a.request.left == 0);
                    let seeders = swarm.values().filter(|s| **s).count() as u32;
                    let leechers = swarm.len() as u32 - seeders;
                    let others = swarm.keys().copied().filter(|p| *p != me);
                    a.respond(60, leechers, seeders, others, &mut reply)
                        .unwrap_or(0)
                }
                ServerAction::Scrape(s) => s
                    .respond(
                        |h| {
                            let swarm = swarms.get(&h);
                            let complete =
                                swarm.map_or(0, |s| s.values().filter(|x| **x).count()) as u32;
                            let all = swarm.map_or(0, HashMap::len) as u32;
                            ScrapeRow {
                                complete,
                                downloaded: 0,
                                incomplete: all - complete,
                            }
                        },
                        &mut reply,
                    )
                    .unwrap_or(0),
                _ => 0,
            };
            if len > 0 {
                let _ = socket.send_to(&reply[..len], from);
            }
        }
    });
    Ok(addr)
}

/// Runs a client's loop until exchange `id` ends; prints what it sends and receives.
/// `clock` is the one the client has been driven with since it was made.
fn finish(
    who: &str,
    client: &mut Client<2>,
    clock: &StdClock,
    socket: &UdpSocket,
    id: ExchangeId,
) -> Result<String, String> {
    let (mut out, mut inbuf) = ([0u8; Client::<2>::MAX_TRANSMIT_LEN], [0u8; 2048]);
    for _ in 0..200 {
        // What time caused first (an exchange that gave up), then what to send.
        if let Some(e) = client.poll_event() {
            return Err(format!("exchange {} got no reply to any send", e.id()));
        }
        while let Ok(Some(t)) = client.poll_transmit(clock.now(), &mut out) {
            let kind = match Request::decode(&out[..t.len]) {
                Ok(Request::Connect(_)) => "connect",
                Ok(Request::Announce(_)) => "announce",
                Ok(Request::Scrape(_)) => "scrape",
                Err(_) => "?",
            };
            println!("  {who} → tracker  {kind} ({} bytes)", t.len);
            socket
                .send_to(&out[..t.len], t.destination)
                .map_err(|e| e.to_string())?;
        }
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let Ok((n, from)) = socket.recv_from(&mut inbuf) else {
            client.handle_timeout(clock.now());
            continue;
        };
        match client.handle_datagram(clock.now(), from, &inbuf[..n]) {
            Ok(Received::Connected { connection_id, .. }) => {
                println!("  tracker → {who}  connect reply: connection id {connection_id}")
            }
            Ok(Received::Announced { id: done, response }) if done == id => {
                let peers: Vec<String> = response.peers.iter().map(|p| p.to_string()).collect();
                return Ok(format!(
                    "announce reply: interval {} s, {} leechers, {} seeders, peers [{}]",
                    response.interval,
                    response.leechers,
                    response.seeders,
                    peers.join(", ")
                ));
            }
            Ok(Received::Scraped { id: done, response }) if done == id => {
                let rows: Vec<String> = response
                    .iter()
                    .map(|(h, r)| {
                        format!(
                            "{}…: complete {} incomplete {}",
                            &h.to_string()[..8],
                            r.complete,
                            r.incomplete
                        )
                    })
                    .collect();
                return Ok(format!("scrape reply: [{}]", rows.join("; ")));
            }
            Ok(Received::Failed { error, .. } | Received::ConnectFailed { error, .. }) => {
                return Err(String::from_utf8_lossy(error.text()).into())
            }
            Ok(_) => println!("  ({who} ignored a reply to another exchange)"),
            Err(rejected) => println!("  ({who} ignored a datagram: {rejected})"),
        }
    }
    Err("no answer".into())
}

fn udp_part() -> Result<(), String> {
    println!("== UDP tracker (BEP 15) on loopback");
    let stop = Arc::new(AtomicBool::new(false));
    let tracker = spawn_tracker(stop.clone()).map_err(|e| e.to_string())?;
    println!("tracker listening on {tracker}");
    let hash = InfoHash([0x7e; 20]);
    let quick = RetryPolicy {
        initial_timeout: Duration::from_millis(500),
        backoff: 2,
        max_sends: 4,
    };
    let clock = StdClock::new();
    for (who, port, left, seed) in [
        ("seeder", 6881u16, 0i64, 0x1111),
        ("leecher", 6882, 5000, 0x2222),
    ] {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let config = ClientConfig::new(tracker).with_retry(quick);
        let mut client = Client::<2>::new_sized(config, seed).map_err(|e| e.to_string())?;
        let mut params = AnnounceParams::new(hash, PeerId(*b"-TW0001-demo-peer-00"), port);
        params.left = left;
        params.event = AnnounceEvent::Started;
        let id = client
            .announce(clock.now(), params)
            .map_err(|e| e.to_string())?;
        println!(
            "  tracker → {who}  {}",
            finish(who, &mut client, &clock, &socket, id)?
        );
        if who == "leecher" {
            let id = client
                .scrape(clock.now(), &[hash])
                .map_err(|e| e.to_string())?;
            println!(
                "  tracker → {who}  {}",
                finish(who, &mut client, &clock, &socket, id)?
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    Ok(())
}

// ---- CTCS ---------------------------------------------------------------------------------

fn show(from: &str, to: &str, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    println!("  {from} → {to}  {}", text.trim_end_matches('\n'));
}

fn ctcs_part() -> Result<(), String> {
    println!("== CTCS server and a simulated ctorrent on loopback");
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("CTCS server listening on {addr}");
    let mut c_sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let (mut s_sock, _) = listener.accept().map_err(|e| e.to_string())?;
    for s in [&c_sock, &s_sock] {
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
    }
    let clock = StdClock::new();
    let now = || clock.now();
    let mut server =
        ServerSession::new(CtcsServerConfig::new(), now()).map_err(|e| e.to_string())?;
    let config = ClientSessionConfig::new(
        *b"-CD0303-\x8c\xa1\x1d\x17\xdd\x63\x46\x6a\x75\x9f\x01\x02",
        1_795_312_213,
        b"demo.torrent",
    )
    .with_unix_time_at_zero_ms(1_795_312_213_000);
    let mut ctorrent = ClientSession::new(config).map_err(|e| e.to_string())?;
    ctorrent.handle_connected(now());
    let mut status = trackwire::ctcs::CtStatus {
        n_have: 13,
        n_total: 13,
        n_avail: 13,
        ..Default::default()
    };
    let peer_ids = [
        b"-CD0303-0x8CA11D17DD63466A759F".as_slice(),
        b"-LT2080-0x0102030405060708090A0B0C".as_slice(),
    ];
    let mut buf = [0u8; ServerSession::MAX_TRANSMIT_LEN];
    let (mut quit_sent, mut statuses) = (false, 0);
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        // ctorrent's outputs and events.
        while let Ok(Some(n)) = ctorrent.poll_transmit(&mut buf) {
            show("ctorrent", "server  ", &buf[..n]);
            c_sock.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        }
        let mut closing = false;
        while let Some(e) = ctorrent.poll_event() {
            let r = match e {
                CtcsClientEvent::Connected | CtcsClientEvent::StatusRequested => {
                    ctorrent.send_status(&status)
                }
                CtcsClientEvent::PeersRequested => {
                    let peers = peer_ids.iter().enumerate().map(|(i, id)| CtPeer {
                        peer_id: Word::new(id).expect("no spaces"),
                        address: Ipv4Addr::new(127, 0, 0, 2 + i as u8),
                        choke_interest: PeerFlags {
                            remote_unchoked: true,
                            local_interested: i == 0,
                            local_unchoked: false,
                            remote_interested: false,
                        },
                        dl_rate: 8000,
                        ul_rate: 0,
                        dl_total: 16384,
                        ul_total: 0,
                        n_pieces: 13,
                    });
                    ctorrent.send_peers(peers)
                }
                CtcsClientEvent::DownloadLimit { limit, .. } => {
                    status.dl_limit = limit;
                    // dnh3.3.2 reports the new limit with its next once-a-second CTBW.
                    ctorrent.send_bw(&CtBw {
                        dl_rate: 0,
                        ul_rate: 0,
                        dl_limit: status.dl_limit,
                        ul_limit: status.ul_limit,
                    })
                }
                CtcsClientEvent::Quit => {
                    closing = true;
                    ctorrent.send_status(&status)
                }
                _ => Ok(()),
            };
            r.map_err(|e| e.to_string())?;
        }
        while let Ok(Some(n)) = ctorrent.poll_transmit(&mut buf) {
            show("ctorrent", "server  ", &buf[..n]);
            c_sock.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        }
        if closing {
            println!("  ctorrent closes the connection");
            c_sock
                .shutdown(std::net::Shutdown::Both)
                .map_err(|e| e.to_string())?;
            ctorrent.stop();
        }
        // The server's outputs.
        while let Ok(Some(n)) = server.poll_transmit(&mut buf) {
            show("server  ", "ctorrent", &buf[..n]);
            s_sock.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        }
        // Bytes arriving at each side, read straight into the sessions' input buffers:
        // every event was polled, so there is room.
        match s_sock.read(server.input_buf()) {
            Ok(0) => {
                server.handle_closed();
                while let Some(e) = server.poll_event() {
                    if matches!(e, ServerEvent::Closed) {
                        println!("  server: the client closed the connection");
                        return Ok(());
                    }
                }
            }
            Ok(n) => server.commit_input(now(), n).map_err(|e| e.to_string())?,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
        while let Some(e) = server.poll_event() {
            // The script: status, peers, a limit, quit — each once.
            let cmd = match e {
                ServerEvent::Hello(h) => {
                    println!("  server: hello from {} ({})", h.peer_id, h.filename);
                    Some(server.request_status())
                }
                ServerEvent::Status { status, .. } => {
                    statuses += 1;
                    println!(
                        "  server: status {}/{} pieces, limits {} / {} bytes/s",
                        status.n_have, status.n_total, status.dl_limit, status.ul_limit
                    );
                    // The first CTSTATUS is unsolicited (sent on connect); the second answers ours.
                    (statuses == 2).then(|| server.request_peers())
                }
                ServerEvent::Peer(p) => {
                    println!("  server: peer {} at {}", p.peer_id, p.address);
                    None
                }
                ServerEvent::BlockEnd {
                    block: BlockKind::Peers,
                    items,
                } => {
                    println!("  server: {items} peers");
                    Some(server.set_download_limit(20480))
                }
                ServerEvent::Bandwidth(bw) if bw.dl_limit == 20480 && !quit_sent => {
                    println!(
                        "  server: the client now downloads at most {} bytes/s",
                        bw.dl_limit
                    );
                    quit_sent = true;
                    Some(server.quit())
                }
                _ => None,
            };
            if let Some(r) = cmd {
                r.map_err(|e| e.to_string())?;
            }
        }
        match c_sock.read(ctorrent.input_buf()) {
            Ok(n) if n > 0 => ctorrent.commit_input(n).map_err(|e| e.to_string())?,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err("the CTCS exchange did not finish within 5 s".into())
}

fn main() -> ExitCode {
    for (name, part) in [
        ("UDP", udp_part as fn() -> Result<(), String>),
        ("CTCS", ctcs_part),
    ] {
        if let Err(e) = part() {
            eprintln!("demo: the {name} part failed: {e}");
            return ExitCode::from(1);
        }
        println!();
    }
    println!("demo finished");
    ExitCode::SUCCESS
}

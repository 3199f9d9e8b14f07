//! Shared by the integration tests: a console on loopback, a raw HTTP client, and a fake
//! ctorrent (trackwire's own `ClientSession` over TCP).
#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use trackwire::ctcs::{
    ClientEvent, ClientSession, ClientSessionConfig, ConfigType, CtBw, CtConfig, CtConfigValues,
    CtDetail, CtFile, CtPeer, CtStatus, PeerFlags, Text, Word,
};
use trackwire::Instant;
use trackwire_console::{Console, ServeOptions};

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let d = std::env::temp_dir().join(format!(
        "trackwire-console-{tag}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Options for a test console: free ports, its own database, short timers.
pub fn test_options(tag: &str) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: Some(temp_dir(tag).join("ctcs.sqlite3")),
        sniff_timeout: Duration::from_millis(300),
        status_interval: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
        ..ServeOptions::default()
    }
}

pub struct Running {
    pub ctcs: SocketAddr,
    pub web: SocketAddr,
    pub task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(options: ServeOptions) -> Running {
    let console: Console = trackwire_console::bind(options).await.expect("bind");
    let ctcs = console.listen_address();
    let web = console.web_address();
    let task = tokio::spawn(async move {
        let _ = console.run().await;
    });
    Running { ctcs, web, task }
}

/// One HTTP/1.1 request on a fresh connection; returns (status, headers, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    auth: Option<&str>,
) -> (u16, String, String) {
    let mut s = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: Basic {a}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    // A reset (the connection cap) reads as an empty answer: status 0.
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("answer in time");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // The body may be chunked: keep it simple, the API answers with Content-Length.
    (status, head.to_owned(), body.to_owned())
}

pub async fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let (status, _, body) = http(addr, "GET", path, None, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `f` every 50 ms until it gives `Some`, for at most `limit`.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the fake client received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    DownloadLimit(i32),
    UploadLimit(i32),
    ConfigSet(String, String),
    Quit,
    Update,
    Restart,
}

pub struct FakeClient {
    pub got: mpsc::UnboundedReceiver<Got>,
    pub task: JoinHandle<()>,
}

impl Drop for FakeClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn unix_now_instant() -> Instant {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Instant::from_millis(u64::try_from(ms).unwrap())
}

/// A ctorrent stand-in: trackwire's `ClientSession` over TCP, answering every request
/// like dnh3.3.2 (status, detail with `file_name`, peers, a v3 config list whose
/// `max_peers` follows `CTCONFIG`), applying limits, quitting on `CTQUIT`.
pub async fn fake_client(addr: SocketAddr, torrent: &str, file_name: &str) -> FakeClient {
    let (tx, got) = mpsc::unbounded_channel();
    let torrent = torrent.to_owned();
    let file_name = file_name.to_owned();
    let stream = TcpStream::connect(addr).await.expect("connect");
    let task = tokio::spawn(async move {
        let _ = run_fake(stream, torrent, file_name, tx).await;
    });
    FakeClient { got, task }
}

enum Reply {
    Status,
    Detail,
    Peers,
    Config,
    Bw,
}

async fn run_fake(
    mut stream: TcpStream,
    torrent: String,
    file_name: String,
    tx: mpsc::UnboundedSender<Got>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cfg = ClientSessionConfig::new(*b"-CD0303-fakefakefake", 1_795_312_162, torrent.as_bytes());
    let mut s = ClientSession::new(cfg)?;
    s.handle_connected(unix_now_instant());
    let status = Arc::new(Mutex::new(CtStatus {
        seeders: 1,
        total_seeders: 3,
        leechers: 2,
        total_leechers: 5,
        n_have: 2,
        n_total: 4,
        n_avail: 4,
        dl_rate: 12_345,
        ul_rate: 678,
        dl_total: 1 << 20,
        ul_total: 1 << 10,
        cache_used: 16,
        ..CtStatus::default()
    }));
    let mut max_peers = String::from("100");
    let mut buf = vec![0u8; ClientSession::MAX_TRANSMIT_LEN];
    loop {
        let mut replies = Vec::new();
        let mut quit = false;
        while let Some(ev) = s.poll_event() {
            match ev {
                ClientEvent::Connected | ClientEvent::StatusRequested => {
                    replies.push(Reply::Status)
                }
                ClientEvent::DetailRequested => replies.push(Reply::Detail),
                ClientEvent::PeersRequested => replies.push(Reply::Peers),
                ClientEvent::ConfigRequested => replies.push(Reply::Config),
                ClientEvent::DownloadLimit { limit, .. } => {
                    status.lock().unwrap().dl_limit = limit;
                    let _ = tx.send(Got::DownloadLimit(limit));
                    replies.push(Reply::Bw);
                }
                ClientEvent::UploadLimit { limit, .. } => {
                    status.lock().unwrap().ul_limit = limit;
                    let _ = tx.send(Got::UploadLimit(limit));
                    replies.push(Reply::Bw);
                }
                ClientEvent::ConfigSet(c) => {
                    let name = String::from_utf8_lossy(c.name.as_bytes()).into_owned();
                    let value = String::from_utf8_lossy(c.value.as_bytes()).into_owned();
                    if name == "max_peers" {
                        max_peers.clone_from(&value);
                    }
                    let _ = tx.send(Got::ConfigSet(name, value));
                }
                ClientEvent::Quit => {
                    let _ = tx.send(Got::Quit);
                    replies.push(Reply::Status);
                    quit = true;
                }
                ClientEvent::Update => {
                    let _ = tx.send(Got::Update);
                }
                ClientEvent::Restart => {
                    let _ = tx.send(Got::Restart);
                }
                _ => {}
            }
        }
        for r in replies {
            let st = *status.lock().unwrap();
            match r {
                Reply::Status => s.send_status(&st)?,
                Reply::Bw => s.send_bw(&CtBw {
                    dl_rate: st.dl_rate,
                    ul_rate: st.ul_rate,
                    dl_limit: st.dl_limit,
                    ul_limit: st.ul_limit,
                })?,
                Reply::Detail => {
                    let detail = CtDetail {
                        torrent_size: 1_048_576,
                        piece_size: 262_144,
                        current_timestamp: 1_795_312_200,
                        seed_timestamp: 0,
                    };
                    let file = CtFile {
                        fileno: 1,
                        priority: 0,
                        current_priority: 0,
                        n_pieces: 4,
                        n_have: 2,
                        n_available: 4,
                        filesize: 1_048_576,
                        filename: Text::new(file_name.as_bytes())?,
                    };
                    s.send_detail(&detail, [file])?;
                }
                Reply::Peers => {
                    let peer = CtPeer {
                        peer_id: Word::new(b"-CD0303-<i>peer</i>")?,
                        address: "127.0.0.1".parse()?,
                        choke_interest: PeerFlags {
                            remote_unchoked: true,
                            local_interested: true,
                            local_unchoked: false,
                            remote_interested: false,
                        },
                        dl_rate: 8157,
                        ul_rate: 0,
                        dl_total: 16384,
                        ul_total: 0,
                        n_pieces: 4,
                    };
                    s.send_peers([peer])?;
                }
                Reply::Config => {
                    let long = format!("Current peers: {}", 3);
                    let opts = [
                        CtConfig {
                            name: Word::new(b"verbose")?,
                            value_type: ConfigType::Boolean,
                            range: Word::new(b"0")?,
                            value: Text::new(b"0")?,
                            short_desc: Text::new(b"Verbose output [-v]")?,
                            long_desc: Text::new(b"Disabled")?,
                        },
                        CtConfig {
                            name: Word::new(b"seed_time")?,
                            value_type: ConfigType::Float,
                            range: Word::new(b"0")?,
                            value: Text::new(b"72")?,
                            short_desc: Text::new(b"Seed time [-e]")?,
                            long_desc: Text::new(b"~hours remaining (-e 72)")?,
                        },
                        CtConfig {
                            name: Word::new(b"max_peers")?,
                            value_type: ConfigType::Integer,
                            range: Word::new(b"20-1000")?,
                            value: Text::new(max_peers.as_bytes())?,
                            short_desc: Text::new(b"Max peers [-M]")?,
                            long_desc: Text::new(long.as_bytes())?,
                        },
                    ];
                    s.send_config(&CtConfigValues::default(), opts)?;
                }
            }
        }
        while let Some(n) = s.poll_transmit(&mut buf)? {
            stream.write_all(&buf[..n]).await?;
        }
        if quit {
            // dnh3.3.2 exits after its final CTSTATUS, closing the connection.
            stream.shutdown().await?;
            return Ok(());
        }
        let n = stream.read(s.input_buf()).await?;
        if n == 0 {
            return Ok(());
        }
        s.commit_input(n)?;
    }
}

/// Resident memory of this process, KiB (Linux).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

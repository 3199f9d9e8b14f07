//! `trackwire ctcs check`: a conformance battery for a CTCS server.
//!
//! It plays the real client (Enhanced CTorrent dnh3.3.2, as measured from Debian's
//! ctorrent) byte for byte, including the behaviours a server must survive, and watches
//! every line the server sends for what would hurt the real client. One PASS / WARN /
//! FAIL row per check, printed as it completes; exit status 0 when nothing FAILs.
//!
//! The server should poll for status (e.g. `trackwire ctcs serve --status-interval 1`) so that the
//! checker can tell it is still listening; without any request the liveness rows are WARN.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use trackwire::ctcs::{KeywordMatch, ServerMessage, Version};

use crate::cli::CtcsCheckArgs;
use crate::failure::Failure;
use crate::report::{Report, Row, Verdict};

/// One connection to the server, speaking as dnh3.3.2.
struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
    /// The version the server last asked for (what the real client would format with).
    version: Version,
    /// Every line the server sent on this connection.
    lines: Vec<Vec<u8>>,
    requests: usize,
    closed: bool,
}

const PEER_ID: &str = "-CD0303-0x99D5B07A8235753C6FADB642";

impl Conn {
    fn open(server: SocketAddr, version: Version) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&server, Duration::from_secs(3))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            pending: Vec::new(),
            version,
            lines: Vec::new(),
            requests: 0,
            closed: false,
        })
    }

    fn send(&mut self, bytes: &[u8]) {
        if self.stream.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// The status line the real client would send in the version in force.
    fn status_line(&self) -> &'static [u8] {
        if self.version == Version::V1 {
            b"CTSTATUS 0/0 4/4/4 0,0 0,0 0,0\n"
        } else {
            b"CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\n"
        }
    }

    /// Reads for `wait`, answering requests as the real client does.
    fn pump(&mut self, wait: Duration) {
        let end = Instant::now() + wait;
        let mut buf = [0u8; 65536];
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.closed {
                return;
            }
            let _ = self
                .stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))));
            match self.stream.read(&mut buf) {
                Ok(0) => self.closed = true,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    self.lines_in();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return,
                Err(_) => self.closed = true,
            }
        }
    }

    fn lines_in(&mut self) {
        // dnh3.3.2 ends a line at CR or LF and skips empty lines.
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let line: Vec<u8> = self.pending.drain(..=i).take(i).collect();
            if line.is_empty() {
                continue;
            }
            self.answer(&line);
            self.lines.push(line);
        }
    }

    fn answer(&mut self, line: &[u8]) {
        let Ok(msg) = ServerMessage::decode_with(line, self.version, KeywordMatch::Prefix) else {
            return;
        };
        let reply: Vec<u8> = match msg {
            ServerMessage::Protocol(p) => {
                self.version = Version::from_announced(p.version);
                return;
            }
            ServerMessage::SendStatus => self.status_line().to_vec(),
            ServerMessage::SendPeers if self.version.is_v3() => b"CTPEERSTART\nCTPEERSDONE\n".to_vec(),
            ServerMessage::SendPeers => b"CTPEERS\nCTPDONE\n".to_vec(),
            ServerMessage::SendDetail if self.version.is_v3() => {
                b"CTDETAIL 1048576 262144 1795312162 1795312162\nCTFILESTART\nCTFILE 1 0 0 4 4 4 1048576 single.bin\nCTFILESDONE\n".to_vec()
            }
            ServerMessage::SendDetail => b"CTDETAIL 1048576 262144 1795312162 1795312162\nCTFILES\nCTFDONE\n".to_vec(),
            ServerMessage::SendConf if self.version.is_v3() => {
                b"CTCONFIGSTART\nCTCONFIG verbose B 0 1:0 19:Verbose output [-v] 8:Disabled\nCTCONFIG max_peers I 20-1000 3:100 14:Max peers [-M] 16:Current peers: 0\nCTCONFIGDONE\n".to_vec()
            }
            ServerMessage::SendConf => b"CTCONFIG 0 72 0.000000 100 1 0 16 0\n".to_vec(),
            _ => return,
        };
        self.requests += 1;
        self.send(&reply);
    }
}

fn opening(password: Option<&str>) -> Vec<u8> {
    let mut v = b"PROTOCOL 0003\n".to_vec();
    if let Some(pw) = password {
        // dnh3.3.2 keeps the newline the user typed: an empty line follows AUTH.
        v.extend_from_slice(format!("AUTH {pw}\n\n").as_bytes());
    }
    v.extend_from_slice(
        format!("CTORRENT {PEER_ID} 1795312162 1795312162 single.torrent\n").as_bytes(),
    );
    v
}

/// What the server sent that would hurt the real client (measured from dnh3.3.2).
fn harmful(line: &[u8], version: Version) -> Option<String> {
    if line.contains(&0) {
        return Some("a NUL byte (it wedges dnh3.3.2's command reader for good)".into());
    }
    if line.len() > 4294 {
        return Some(format!(
            "a {}-byte line (over the real client's 4294)",
            line.len()
        ));
    }
    let keyword_end = line.iter().position(|b| *b == b' ').unwrap_or(line.len());
    if line.get(..keyword_end) == Some(b"CTCONFIG".as_slice()) {
        let rest: &[u8] = line.get(keyword_end..).unwrap_or_default();
        if rest.iter().all(|b| *b == b' ') {
            return Some("a bare CTCONFIG (dnh3.3.2 crashes on it)".into());
        }
        if version.is_v3() {
            if let Ok(ServerMessage::CtConfigValues(_)) = ServerMessage::decode(line, Version::V2) {
                let first = rest.iter().copied().find(|b| *b != b' ');
                if first.is_some_and(|b| b == b'.' || b.is_ascii_digit()) {
                    return Some("a positional CTCONFIG to a v3 client".into());
                }
            }
        }
    }
    None
}

fn survive(
    conn: &mut Conn,
    check: &'static str,
    rule: &'static str,
    bytes: &[u8],
    wait: Duration,
    rep: &mut Report,
) {
    let before = conn.requests;
    conn.send(bytes);
    conn.pump(wait);
    let (verdict, seen) = if conn.closed {
        (
            Verdict::Fail,
            "the server closed the connection".to_string(),
        )
    } else if conn.requests > before {
        (
            Verdict::Pass,
            "connection open, server still asking".to_string(),
        )
    } else {
        (
            Verdict::Warn,
            "connection open, but no request arrived to prove the server is listening".to_string(),
        )
    };
    rep.push(Row {
        check,
        verdict,
        rule,
        seen,
    });
}

/// Runs `ctcs check`: the battery against the CTCS server `--server`.
pub(crate) fn run(a: &CtcsCheckArgs) -> Result<ExitCode, Failure> {
    let server: SocketAddr = a
        .server
        .to_socket_addrs()
        .map_err(|e| Failure::Unreachable(format!("cannot resolve {}: {e}", a.server)))?
        .next()
        .ok_or_else(|| Failure::Unreachable(format!("{} has no address", a.server)))?;
    let password = a.password.as_deref();
    let wait = Duration::from_millis(a.wait_ms);
    let mut first = Conn::open(server, Version::V3)
        .map_err(|e| Failure::Unreachable(format!("cannot connect to {server}: {e}")))?;
    let mut rep = Report::new(a.json);
    let rows = &mut rep;
    // The real client writes its opening at once and never answers PROTOCOL.
    first.send(&opening(password));
    first.send(first.status_line());
    first.pump(wait);
    let protocol_first = first
        .lines
        .first()
        .is_some_and(|l| l.starts_with(b"PROTOCOL"));
    rows.push(Row {
        check: "protocol_sent",
        verdict: if protocol_first {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        rule: "the server sends PROTOCOL first on every connection",
        seen: first.lines.first().map_or("nothing".into(), |l| {
            String::from_utf8_lossy(l).into_owned()
        }),
    });
    let opening_rule = "PROTOCOL is never answered; AUTH is followed by an empty line";
    rows.push(Row {
        check: "opening_without_reply",
        verdict: if first.closed {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        rule: opening_rule,
        seen: if first.closed {
            "the server closed the connection".into()
        } else {
            "connection open".into()
        },
    });
    let info = b"CTINFO 2 TRACKER WARNING: harness warning\nwith an embedded newline\n";
    survive(
        &mut first,
        "continuation_line",
        "CTINFO text may span lines",
        info,
        wait,
        rows,
    );
    let block = b"CTCONFIGSTART\nCTCONFIG verbose B 0 1:1 19:Verbose output [-v] 7:Enabled\nCTCONFIGDONE\nCTBW 0,0 0,0\n";
    survive(
        &mut first,
        "unsolicited_blocks",
        "config blocks and CTBW arrive unasked",
        block,
        wait,
        rows,
    );
    let mut long = b"CTINFO 3 ".to_vec();
    long.resize(4294, b'x');
    long.push(b'\n');
    survive(
        &mut first,
        "line_of_4294_bytes",
        "client lines reach 4294 bytes + LF",
        &long,
        wait,
        rows,
    );
    // A 4295-byte CTCONFIG is cut at 4294 with its declared length still standing, and
    // the next line starts with the NUL dnh3.3.2 also sends.
    let mut cut = b"CTCONFIG user_exit S 4096 4250:".to_vec();
    cut.resize(4294, b'a');
    cut.extend_from_slice(b"\n\0CTCONFIG out_normal S 4096 6:stdout 20:Normal/status output 0:\n");
    survive(
        &mut first,
        "leading_nul_after_cut_line",
        "a cut line and a leading NUL",
        &cut,
        wait,
        rows,
    );
    let negotiated = first.version;
    let _ = first.stream.shutdown(std::net::Shutdown::Both);
    let mut all_lines: Vec<(Vec<u8>, Version)> = first
        .lines
        .iter()
        .map(|l| (l.clone(), negotiated))
        .collect();

    // Reconnect: dnh3.3.2 says PROTOCOL 0003 again but keeps the version it had.
    match Conn::open(server, negotiated) {
        Ok(mut again) => {
            again.send(&opening(password));
            again.send(again.status_line());
            again.pump(wait);
            let protocol_again = again
                .lines
                .first()
                .is_some_and(|l| l.starts_with(b"PROTOCOL"));
            rows.push(Row {
                check: "protocol_on_reconnect",
                verdict: if protocol_again {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                rule: "the client keeps its version across reconnects, so PROTOCOL must come again",
                seen: again.lines.first().map_or("nothing".into(), |l| {
                    String::from_utf8_lossy(l).into_owned()
                }),
            });
            let status = again.status_line();
            survive(
                &mut again,
                "version_kept_across_reconnect",
                "old-version lines after a reconnect",
                status,
                wait,
                rows,
            );
            all_lines.extend(again.lines.iter().map(|l| (l.clone(), again.version)));
        }
        Err(e) => rows.push(Row {
            check: "protocol_on_reconnect",
            verdict: Verdict::Fail,
            rule: "the client reconnects 5 s after a close",
            seen: format!("cannot reconnect: {e}"),
        }),
    }

    let bad: Vec<String> = all_lines
        .iter()
        .filter_map(|(l, v)| harmful(l, *v))
        .collect();
    rows.push(Row {
        check: "never_harmful_lines",
        verdict: if bad.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        rule: "no NUL, bare CTCONFIG, over-long line or positional CTCONFIG to v3",
        seen: if bad.is_empty() {
            format!("{} server lines, none harmful", all_lines.len())
        } else {
            bad.join("; ")
        },
    });

    Ok(rep.finish())
}

//! `ctcs::ClientSession` (the ctorrent role) over an arbitrary script: connects, refused
//! connects and closes; server bytes in any chunking (raw, or real server lines of every
//! kind, with stray NULs, CRs and over-long lines); time jumps forward and backward; every
//! reply and unsolicited message with arbitrary values.
//!
//! Asserts (the shared part is in `trackwire_fuzz`): no panic; `poll_timeout()` is
//! never earlier than the last `now` after `handle_timeout(now)`; every `poll_transmit`
//! is exactly one LF-terminated line with no NUL or CR, within `MAX_TRANSMIT_LEN`;
//! `handle_input` takes all bytes or none, and has room again once events are polled.
#![no_main]

use std::net::Ipv4Addr;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{
    ClientSession, ClientSessionConfig, CtBw, CtConfigValues, CtDetail, CtFile, CtPeer, CtStatus,
    PeerFlags, Text, Word,
};
use trackwire::Instant;
use trackwire_fuzz::{drain_transmit, feed, time_step, TimeOp};

const SERVER_LINES: &[&[u8]] = &[
    b"PROTOCOL 0003\n",
    b"PROTOCOL 0002\n",
    b"PROTOCOL 0001\n",
    b"PROTOCOL 0000\n",
    b"PROTOCOL 2\r\n",
    b"SENDSTATUS\n",
    b"SENDDETAIL\n",
    b"SENDPEERS\n",
    b"SENDCONF\n",
    b"SETDLIMIT 20480\n",
    b"SETULIMIT 1.5e3\n",
    b"CTCONFIG max_peers 50\n",
    b"CTCONFIG   max_peers    60  \n",
    b"CTCONFIG . . . 70 . . . . .\n",
    b"CTCONFIG\n",
    b"CTQUIT\n",
    b"CTQUITTER\n",
    b"CTRESTART\rCTUPDATE\r",
    b"ERROR Authentication failed\n",
    b"SEND\0STATUS\n",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Connected,
    ConnectFailed,
    Closed,
    Raw(Vec<u8>),
    Line(u8),
    Long(u16),
    Time(TimeOp),
    Status(i32, i32, u64),
    Bw(i32, i32),
    Info(u8, Vec<u8>),
    Detail(u8),
    Peers(u8),
    Config,
    Stop,
    Reconnect(u16),
}

#[derive(Arbitrary, Debug)]
struct Script {
    password: Option<Vec<u8>>,
    torrent: Vec<u8>,
    ops: Vec<Op>,
}

fuzz_target!(|script: Script| {
    let config = ClientSessionConfig::new(*b"-CD0303-abcdefghijkl", 1_795_312_162, &script.torrent)
        .with_password(script.password.as_deref());
    let Ok(session) = ClientSession::new(config) else {
        return;
    };
    let mut s = Box::new(session);
    let mut now = Instant::from_secs(1_795_312_162);
    let mut out = vec![0u8; ClientSession::MAX_TRANSMIT_LEN];
    let flags = PeerFlags {
        remote_unchoked: true,
        local_interested: false,
        local_unchoked: true,
        remote_interested: false,
    };
    for op in script.ops.iter().take(200) {
        let _ = match op {
            Op::Connected => {
                s.handle_connected(now);
                Ok(())
            }
            Op::ConnectFailed => {
                s.handle_connect_failed(now);
                Ok(())
            }
            Op::Closed => {
                s.handle_closed(now);
                Ok(())
            }
            Op::Raw(b) => {
                feed(&mut *s, now, b);
                Ok(())
            }
            Op::Line(i) => {
                feed(
                    &mut *s,
                    now,
                    SERVER_LINES[usize::from(*i) % SERVER_LINES.len()],
                );
                Ok(())
            }
            Op::Long(len) => {
                let mut l = b"SENDSTATUS".to_vec();
                l.resize(10 + usize::from(*len), b'x');
                l.push(b'\n');
                feed(&mut *s, now, &l);
                Ok(())
            }
            Op::Time(op) => {
                time_step(&mut *s, &mut now, *op);
                Ok(())
            }
            Op::Status(dl, ul, total) => {
                let status = CtStatus {
                    dl_limit: *dl,
                    ul_limit: *ul,
                    dl_total: *total,
                    n_total: 4,
                    ..CtStatus::default()
                };
                s.send_status(&status)
            }
            Op::Bw(dl, ul) => s.send_bw(&CtBw {
                dl_rate: 0,
                ul_rate: 0,
                dl_limit: *dl,
                ul_limit: *ul,
            }),
            Op::Info(severity, text) => s.send_info(i32::from(*severity), text),
            Op::Detail(n) => {
                let name = Text::new(b"a file.txt").expect("valid");
                let files = (0..*n % 8).map(|i| CtFile {
                    fileno: i32::from(i) + 1,
                    priority: 0,
                    current_priority: 0,
                    n_pieces: 1,
                    n_have: 1,
                    n_available: 1,
                    filesize: 1000,
                    filename: name,
                });
                s.send_detail(&CtDetail::default(), files)
            }
            Op::Peers(n) => {
                let id = Word::new(b"-CD0303-0x0102030405060708090A0B0C").expect("valid");
                let peers = (0..*n % 16).map(|i| CtPeer {
                    peer_id: id,
                    address: Ipv4Addr::new(10, 0, 0, i),
                    choke_interest: flags,
                    dl_rate: 1,
                    ul_rate: 2,
                    dl_total: 3,
                    ul_total: 4,
                    n_pieces: 5,
                });
                s.send_peers(peers)
            }
            Op::Config => s.send_config(&CtConfigValues::default(), []),
            Op::Stop => {
                s.stop();
                Ok(())
            }
            Op::Reconnect(ms) => {
                s.reconnect_after(now, Duration::from_millis(u64::from(*ms)));
                Ok(())
            }
        };
        drain_transmit(&mut *s, &mut out, |_| {});
        while s.poll_event().is_some() {}
    }
});

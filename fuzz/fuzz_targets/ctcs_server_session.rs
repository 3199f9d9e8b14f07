//! `ctcs::ServerSession` over an arbitrary script: client bytes in any chunking (raw, or
//! real client lines of every kind, with stray NULs, CRs and over-long lines), time jumps
//! forward and backward, every command with arbitrary values, closes.
//!
//! Asserts (the shared part is in `trackwire_fuzz`): no panic; `poll_timeout()` is
//! never earlier than the last `now` after `handle_timeout(now)`; every `poll_transmit`
//! is exactly one LF-terminated line with no NUL or CR, within `MAX_TRANSMIT_LEN`, and
//! never a bare `CTCONFIG`; `handle_input` takes all bytes or none, and has room again
//! once events are polled.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{CtConfigValues, Positional, ServerConfig, ServerSession, Version};
use trackwire::Instant;
use trackwire_fuzz::{drain_transmit, feed, time_step, TimeOp};

/// Lines the real client sends, to get past the handshake and into the blocks.
const CLIENT_LINES: &[&[u8]] = &[
    b"PROTOCOL 0003\n",
    b"PROTOCOL 0001\n",
    b"AUTH pw\n\n",
    b"CTORRENT -CD0303-0x99D5B07A8235753C6FADB642 1795312162 1795312162 single.torrent\n",
    b"CTSTATUS 0:0/0:0/0 4/4/4 0,0 0,0 0,0 0\n",
    b"CTSTATUS 0/0 13/13/13 0,0 0,0 0,0\n",
    b"CTBW 8190,0 4096,2048\n",
    b"CTINFO 2 TRACKER WARNING: harness warning\nwith an embedded newline\n",
    b"CTDETAIL 1048576 262144 1795312162 1795312162\n",
    b"CTFILESTART\n",
    b"CTFILE 1 0 0 4 4 4 1048576 single.bin\n",
    b"CTFILESDONE\n",
    b"CTFILES\nCTFILE 2 6 6 300000 a file.txt\nCTFDONE\n",
    b"CTPEERSTART\n",
    b"CTPEER -CD0303-UQT0x83BD63685CB64BB4BF 127.0.0.1 UiCn 8157 0 16384 0 13\n",
    b"CTPEERSDONE\n",
    b"CTPEERS\nCTPDONE\n",
    b"CTCONFIGSTART\n",
    b"CTCONFIG max_peers I 20-1000 3:100 14:Max peers [-M] 16:Current peers: 0\n",
    b"CTCONFIGDONE\n",
    b"CTCONFIG 1 72 0.000000 100 1 0 1 0\n",
    b"\0CTCONFIG out_normal S 4096 6:stdout 20:Normal/status output 0:\n",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Raw(Vec<u8>),
    Line(u8),
    /// A known line cut into two chunks.
    Split(u8, u8),
    Long(u16, u8),
    Time(TimeOp),
    Status,
    Peers,
    Detail,
    Config,
    Dlimit(i32),
    Ulimit(i32),
    Set(Vec<u8>, Vec<u8>),
    Positional(Option<u8>, Option<u16>),
    Update,
    Restart,
    Quit,
    Close,
}

#[derive(Arbitrary, Debug)]
struct Script {
    max_version: u8,
    password: Option<Vec<u8>>,
    poll: Option<u16>,
    idle: Option<u16>,
    ops: Vec<Op>,
}

fuzz_target!(|script: Script| {
    let version = match script.max_version % 4 {
        0 => Version::V0,
        1 => Version::V1,
        2 => Version::V2,
        _ => Version::V3,
    };
    let mut config = ServerConfig::new()
        .with_max_version(version)
        .with_poll_interval(script.poll.map(|s| Duration::from_millis(u64::from(s) + 1)))
        .with_idle_timeout(script.idle.map(|s| Duration::from_millis(u64::from(s) + 1)));
    if let Some(pw) = &script.password {
        config = config.with_password(Some(pw));
    }
    let mut now = Instant::from_secs(1_000);
    let Ok(mut s) = ServerSession::new(config, now) else {
        return;
    };
    let mut out = vec![0u8; ServerSession::MAX_TRANSMIT_LEN];
    let no_bare_ctconfig = |line: &[u8]| {
        assert!(
            line.trim_ascii_end() != b"CTCONFIG",
            "a bare CTCONFIG: {:?}",
            String::from_utf8_lossy(line)
        );
    };
    for op in script.ops.iter().take(200) {
        let _ = match op {
            Op::Raw(b) => {
                feed(&mut s, now, b);
                Ok(())
            }
            Op::Line(i) => {
                feed(
                    &mut s,
                    now,
                    CLIENT_LINES[usize::from(*i) % CLIENT_LINES.len()],
                );
                Ok(())
            }
            Op::Split(i, at) => {
                let l = CLIENT_LINES[usize::from(*i) % CLIENT_LINES.len()];
                let at = usize::from(*at) % (l.len() + 1);
                feed(&mut s, now, &l[..at]);
                feed(&mut s, now, &l[at..]);
                Ok(())
            }
            Op::Long(len, byte) => {
                let mut l = b"CTINFO 3 ".to_vec();
                l.resize(9 + usize::from(*len), *byte);
                l.push(b'\n');
                feed(&mut s, now, &l);
                Ok(())
            }
            Op::Time(op) => {
                time_step(&mut s, &mut now, *op);
                Ok(())
            }
            Op::Status => s.request_status(),
            Op::Peers => s.request_peers(),
            Op::Detail => s.request_detail(),
            Op::Config => s.request_config(),
            Op::Dlimit(b) => s.set_download_limit(*b),
            Op::Ulimit(b) => s.set_upload_limit(*b),
            Op::Set(n, v) => s.set_config(n, v),
            Op::Positional(verbose, maxpeers) => {
                let mut values = CtConfigValues::default();
                values.verbose =
                    verbose.map_or(Positional::Keep, |v| Positional::Set(i32::from(v % 2)));
                values.maxpeers =
                    maxpeers.map_or(Positional::Keep, |m| Positional::Set(i32::from(m)));
                s.set_config_values(&values)
            }
            Op::Update => s.update(),
            Op::Restart => s.restart(),
            Op::Quit => s.quit(),
            Op::Close => {
                s.handle_closed();
                Ok(())
            }
        };
        drain_transmit(&mut s, &mut out, no_bare_ctconfig);
        while s.poll_event().is_some() {}
    }
});

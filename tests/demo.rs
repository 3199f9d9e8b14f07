//! The README's main-job command, `cargo run --example demo`, finishes with status 0 and
//! shows each step it promises.

mod common;

use std::process::Command;

#[test]
fn demo_runs_every_step() {
    let out = Command::new(common::procs::example("demo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "seeder → tracker  connect",
        "announce reply: interval 60 s, 1 leechers, 1 seeders, peers [\"127.0.0.1:6881\"]",
        "scrape reply",
        "ctorrent → server    PROTOCOL 0003",
        "server   → ctorrent  SENDSTATUS",
        "server   → ctorrent  SENDPEERS",
        "ctorrent → server    CTPEERSDONE",
        "server   → ctorrent  SETDLIMIT 20480",
        "ctorrent → server    CTBW 0,0 20480,0",
        "server   → ctorrent  CTQUIT",
        "server: the client closed the connection",
        "demo finished",
    ] {
        assert!(text.contains(step), "missing `{step}` in:\n{text}");
    }
}

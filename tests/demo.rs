//! The README's main-job command, `cargo run --example demo`, finishes with status 0 and
//! shows each step it promises.

use std::path::PathBuf;
use std::process::Command;

/// The demo example, which `cargo test` builds next to the test binaries.
fn demo() -> PathBuf {
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    let exe = p
        .join("examples")
        .join(format!("demo{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.exists(),
        "{} was not built (`cargo test` builds examples)",
        exe.display()
    );
    exe
}

#[test]
fn demo_runs_every_step() {
    let out = Command::new(demo()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "seeder → tracker  connect",
        "announce reply: interval 60 s, 1 leechers, 1 seeders, peers [127.0.0.1:6881]",
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

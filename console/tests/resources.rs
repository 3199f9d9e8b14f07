//! Bounded resources on loopback: many connections, half lines, a 10 MB line, the
//! connection cap and the timeouts — none of them blocks a real client or makes the
//! console hold memory without bound. Every loop here is bounded in time and count.

mod common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use trackwire_console::ServeOptions;

/// Reads until EOF (or a reset); returns what arrived, or `None` if the connection was
/// still open after `limit`.
async fn until_closed(s: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_connections_half_lines_and_a_10_mb_line() {
    let options = ServeOptions {
        max_connections: 1024,
        handshake_timeout: Duration::from_secs(2),
        line_timeout: Duration::from_secs(2),
        ..test_options("flood")
    };
    let console = start(options).await;
    let rss_before = rss_kib();
    let opened = Instant::now();
    let mut junk = Vec::new();
    for i in 0..500 {
        let mut s = TcpStream::connect(console.ctcs).await.expect("connect");
        let first: &[u8] = match i % 4 {
            0 => b"CTSTATUS 1:0/0",
            1 => b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ",
            2 => b"",
            _ => b"PROTOCOL 0003\nCTORRENT -CD0303-junkjunkjunk 1 1 junk.torrent\nCTBW 1,",
        };
        if !first.is_empty() {
            s.write_all(first).await.unwrap();
        }
        junk.push(s);
    }
    // One client streams 10 MB without a line end.
    let big = console.ctcs;
    let flood = tokio::spawn(async move {
        let mut s = TcpStream::connect(big).await.unwrap();
        let chunk = vec![b'A'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 10 * 1024 * 1024 {
            match timeout(Duration::from_secs(10), s.write_all(&chunk)).await {
                Ok(Ok(())) => sent += chunk.len(),
                _ => break,
            }
        }
        sent
    });

    // Meanwhile a real client is served at once, and the API answers.
    let started = Instant::now();
    let _fake = fake_client(console.ctcs, "real.torrent", "f").await;
    wait_for(
        Duration::from_secs(3),
        "the real client amid the flood",
        || async {
            let list = get_json(console.web, "/api/torrents").await;
            list.as_array()?
                .iter()
                .any(|t| t["name"] == "real.torrent" && t["status_at"].is_number())
                .then_some(())
        },
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    let t = Instant::now();
    let (status, _, _) = http(console.web, "GET", "/", None, None).await;
    assert_eq!(status, 200);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "a page took {:?}",
        t.elapsed()
    );

    // Every junk connection is closed by its timeout, none lingers.
    let mut closed = 0;
    for s in &mut junk {
        let left = Duration::from_secs(8).saturating_sub(opened.elapsed());
        if until_closed(s, left.max(Duration::from_millis(10)))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 500, "connections still open after their timeouts");
    let sent = timeout(Duration::from_secs(20), flood)
        .await
        .unwrap()
        .unwrap();
    // The 10 MB line was either read and dropped piece by piece or cut off by the
    // half-line timeout; either way nothing held it.
    assert!(sent > 0);
    let growth = rss_kib().saturating_sub(rss_before);
    assert!(growth < 64 * 1024, "resident memory grew by {growth} KiB");

    // The identified junk clients went to the history; the real one is still served.
    let list = get_json(console.web, "/api/torrents").await;
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, ["real.torrent"]);
    let hist = get_json(console.web, "/api/history").await;
    assert_eq!(hist.as_array().unwrap().len(), 125);
}

#[tokio::test]
async fn the_connection_cap_closes_one_more_at_once() {
    let options = ServeOptions {
        max_connections: 8,
        ..test_options("cap")
    };
    let console = start(options).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(console.ctcs).await.unwrap();
        s.write_all(b"PROTOCOL 0003\n").await.unwrap();
        // The server answers PROTOCOL: the connection holds a slot.
        let mut buf = [0u8; 14];
        timeout(Duration::from_secs(2), s.read_exact(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf, b"PROTOCOL 0003\n");
        held.push(s);
    }
    let mut extra = TcpStream::connect(console.ctcs).await.unwrap();
    let _ = extra.write_all(b"PROTOCOL 0003\n").await;
    let got = until_closed(&mut extra, Duration::from_secs(2))
        .await
        .expect("the 9th connection is closed at once");
    assert!(got.is_empty(), "no session for the 9th: {got:?}");
    // A slot freed is a slot taken again.
    drop(held.pop());
    let mut again = wait_for(Duration::from_secs(3), "a free slot", || async {
        let mut s = TcpStream::connect(console.ctcs).await.ok()?;
        s.write_all(b"PROTOCOL 0003\n").await.ok()?;
        let mut buf = [0u8; 14];
        let r = timeout(Duration::from_millis(500), s.read_exact(&mut buf)).await;
        matches!(r, Ok(Ok(_))).then_some(s)
    })
    .await;
    again
        .write_all(b"CTORRENT -CD0303-x 1 1 again.torrent\n")
        .await
        .unwrap();
    // The web request needs a slot too: free one more.
    drop(held.pop());
    wait_for(
        Duration::from_secs(3),
        "the client in a freed slot",
        || async {
            let (_, _, body) = http(console.web, "GET", "/api/torrents", None, None).await;
            body.contains("again.torrent").then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn idle_handshake_and_silent_connections() {
    let options = ServeOptions {
        status_interval: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        handshake_timeout: Duration::from_secs(1),
        sniff_timeout: Duration::from_millis(200),
        ..test_options("idle")
    };
    let console = start(options).await;
    let _fake = fake_client(console.ctcs, "answers.torrent", "f").await;

    // Identifies itself, then never answers: closed once the idle timeout passes.
    let t0 = Instant::now();
    let mut mute = TcpStream::connect(console.ctcs).await.unwrap();
    mute.write_all(b"PROTOCOL 0003\nCTORRENT -CD0303-mutemutemute 1 1 mute.torrent\n")
        .await
        .unwrap();
    // Never identifies itself: closed at the handshake timeout.
    let mut anonymous = TcpStream::connect(console.ctcs).await.unwrap();
    anonymous.write_all(b"PROTOCOL 0003\n").await.unwrap();
    // Says nothing: after the sniff timeout the server speaks first, as a CTCS server.
    let mut silent = TcpStream::connect(console.ctcs).await.unwrap();
    let mut buf = [0u8; 14];
    timeout(Duration::from_secs(2), silent.read_exact(&mut buf))
        .await
        .expect("PROTOCOL after the sniff timeout")
        .unwrap();
    assert_eq!(&buf, b"PROTOCOL 0003\n");
    // A client that waited for the server can still identify itself in time.
    silent
        .write_all(b"PROTOCOL 0003\nCTORRENT -CD0303-latelatelate 1 1 late.torrent\nCTSTATUS 0:0/0:0/0 1/1/1 0,0 0,0 0,0 0\n")
        .await
        .unwrap();
    wait_for(Duration::from_secs(2), "the late client", || async {
        let (_, _, b) = http(console.web, "GET", "/api/torrents", None, None).await;
        b.contains("late.torrent").then_some(())
    })
    .await;

    let got = until_closed(&mut anonymous, Duration::from_secs(3))
        .await
        .expect("closed at the handshake timeout");
    assert!(t0.elapsed() >= Duration::from_millis(900));
    assert!(got.starts_with(b"PROTOCOL 0003\n"));
    let got = until_closed(&mut mute, Duration::from_secs(5))
        .await
        .expect("closed at the idle timeout");
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());
    // It was asked for its status (and more) before being given up.
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("SENDSTATUS\n"), "{text}");
    let hist = get_json(console.web, "/api/history").await;
    assert!(hist
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "mute.torrent"));
    // The client that answers the polls stays.
    let list = get_json(console.web, "/api/torrents").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "answers.torrent"));
}

#[tokio::test]
async fn an_idle_keep_alive_browser_connection_is_closed() {
    let options = ServeOptions {
        handshake_timeout: Duration::from_secs(1),
        ..test_options("keepalive")
    };
    let console = start(options).await;
    let mut s = TcpStream::connect(console.web).await.unwrap();
    s.write_all(b"GET /api/torrents HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let t0 = Instant::now();
    let got = until_closed(&mut s, Duration::from_secs(4))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(t0.elapsed() >= Duration::from_millis(900));
}

/// CPU time used by this process so far (user + system), from /proc (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name, from `state`: utime and stime are
    // the 12th and 13th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> u64 { f.get(i).and_then(|x| x.parse().ok()).expect("utime/stime") };
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_cost_no_cpu_and_stalled_methods_go_nowhere() {
    let options = ServeOptions {
        status_interval: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(7200),
        sniff_timeout: Duration::from_millis(300),
        ..test_options("quiet")
    };
    let console = start(options).await;
    // 200 identified clients that then say nothing (an idle seeder sends nothing).
    let mut held = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(console.ctcs).await.unwrap();
        s.write_all(
            format!("PROTOCOL 0003\nCTORRENT -CD0303-quiet{i:07} 1 1 q{i}.torrent\n").as_bytes(),
        )
        .await
        .unwrap();
        held.push(s);
    }
    wait_for(Duration::from_secs(10), "200 clients listed", || async {
        let list = get_json(console.web, "/api/torrents").await;
        (list.as_array()?.len() == 200).then_some(())
    })
    .await;
    // Let the first requests (config, detail, peers) settle, then measure.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cpu_time();
    // The setup above cost something: the reading is real.
    assert!(before > Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_time().saturating_sub(before);
    // A 20 ms poll per connection would be 20 000 wake-ups here.
    assert!(
        used < Duration::from_millis(200),
        "{used:?} of CPU in 2 s of silence"
    );

    // "GE" and then nothing: neither an HTTP answer nor a CTCS session.
    let mut s = TcpStream::connect(console.ctcs).await.unwrap();
    s.write_all(b"GE").await.unwrap();
    let got = until_closed(&mut s, Duration::from_secs(3))
        .await
        .expect("closed after the sniff timeout");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
}

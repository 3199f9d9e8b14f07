//! The JSON API and the pages over loopback, with a fake ctorrent (trackwire's own
//! `ClientSession`) connected to the console.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use trackwire_console::{OptionsErrorKind, ServeError, ServeOptions};

const SCRIPT: &str = "<script>alert(1)</script>";

async fn first_torrent(web: std::net::SocketAddr) -> serde_json::Value {
    wait_for(
        Duration::from_secs(5),
        "the fake client to be listed",
        || async {
            let list = get_json(web, "/api/torrents").await;
            list.as_array()
                .and_then(|a| a.first().cloned())
                .filter(|t| t["status_at"].is_number())
        },
    )
    .await
}

#[tokio::test]
async fn list_details_limits_config_and_quit() {
    let console = start(test_options("api")).await;
    let mut fake = fake_client(console.ctcs, "dir/some torrent.torrent", "a file.bin").await;
    let t = first_torrent(console.web).await;
    assert_eq!(t["name"], "dir/some torrent.torrent");
    assert_eq!(t["peer_id"], "-CD0303-fakefakefake");
    assert_eq!(t["dl_rate"], 12_345);
    assert_eq!(t["ul_rate"], 678);
    assert_eq!(t["dl_limit"], 0);
    assert_eq!(t["progress"], 0.5);
    let id = t["id"].as_u64().unwrap();

    // Details: files, peers and config arrive after the console asks for them.
    let d = wait_for(
        Duration::from_secs(5),
        "files, peers and config",
        || async {
            let d = get_json(console.web, &format!("/api/torrents/{id}")).await;
            let full = !d["files"].as_array()?.is_empty()
                && !d["peers"].as_array()?.is_empty()
                && d["config"].as_array()?.len() == 3;
            full.then_some(d)
        },
    )
    .await;
    assert_eq!(d["files"][0]["name"], "a file.bin");
    assert_eq!(d["files"][0]["size"], 1_048_576);
    assert_eq!(d["peers"][0]["flags"], "UiCn");
    assert_eq!(d["peers"][0]["client"], "Enhanced CTorrent 0303");
    assert_eq!(d["config"][2]["name"], "max_peers");
    assert_eq!(d["config"][2]["range"], "20-1000");
    assert_eq!(d["detail"]["torrent_size"], 1_048_576);

    // Limits: the POST becomes SETDLIMIT / SETULIMIT on the client's connection.
    let (status, _, body) = http(
        console.web,
        "POST",
        &format!("/api/torrents/{id}/limits"),
        Some(r#"{"dl_limit": 16384, "ul_limit": 2048}"#),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(fake.got.recv().await, Some(Got::DownloadLimit(16384)));
    assert_eq!(fake.got.recv().await, Some(Got::UploadLimit(2048)));
    wait_for(
        Duration::from_secs(5),
        "the new limits in the list",
        || async {
            let list = get_json(console.web, "/api/torrents").await;
            (list[0]["dl_limit"] == 16384 && list[0]["ul_limit"] == 2048).then_some(())
        },
    )
    .await;

    // Config: CTCONFIG name value, then the client's list shows it.
    let (status, _, body) = http(
        console.web,
        "POST",
        &format!("/api/torrents/{id}/config"),
        Some(r#"{"name": "max_peers", "value": "55"}"#),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        fake.got.recv().await,
        Some(Got::ConfigSet("max_peers".into(), "55".into()))
    );
    wait_for(
        Duration::from_secs(5),
        "max_peers 55 in the config list",
        || async {
            let d = get_json(console.web, &format!("/api/torrents/{id}")).await;
            (d["config"][2]["value"] == "55").then_some(())
        },
    )
    .await;

    for (action, got) in [("update", Got::Update), ("restart", Got::Restart)] {
        let (status, _, body) = http(
            console.web,
            "POST",
            &format!("/api/torrents/{id}/{action}"),
            Some("{}"),
            None,
        )
        .await;
        assert_eq!(status, 202, "{action}: {body}");
        assert_eq!(fake.got.recv().await, Some(got));
    }

    // Bad input is refused with a reason, and nothing reaches the client.
    for (path, body, want) in [
        ("limits", r#"{"dl_limit": -1}"#, 400),
        ("limits", r#"{"dl_limit": 4294967296}"#, 400),
        ("limits", r#"{}"#, 400),
        ("limits", r#"{"dl_limit": 1, "bogus": 2}"#, 422),
        ("config", r#"{"name": "", "value": "1"}"#, 400),
        ("config", r#"{"name": "a b", "value": "1"}"#, 400),
        ("config", r#"{"name": "x", "value": " lead"}"#, 400),
        ("limits", "not json", 400),
    ] {
        let (status, _, text) = http(
            console.web,
            "POST",
            &format!("/api/torrents/{id}/{path}"),
            Some(body),
            None,
        )
        .await;
        assert_eq!(status, want, "{path} {body}: {text}");
    }
    let (status, _, _) = http(console.web, "GET", "/api/torrents/999999", None, None).await;
    assert_eq!(status, 404);
    // A POST without a JSON content type (a plain cross-site form) is refused.
    let (status, _, _) = http(
        console.web,
        "POST",
        &format!("/api/torrents/{id}/quit"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 415);
    assert!(
        fake.got.try_recv().is_err(),
        "nothing else reached the client"
    );

    // Quit: CTQUIT, the client leaves, the torrent moves to the history.
    let (status, _, _) = http(
        console.web,
        "POST",
        &format!("/api/torrents/{id}/quit"),
        Some("{}"),
        None,
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(fake.got.recv().await, Some(Got::Quit));
    wait_for(
        Duration::from_secs(5),
        "the torrent in the history",
        || async {
            let list = get_json(console.web, "/api/torrents").await;
            let hist = get_json(console.web, "/api/history").await;
            (list.as_array()?.is_empty() && hist[0]["name"] == "dir/some torrent.torrent")
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn client_strings_are_escaped_in_every_page() {
    let console = start(test_options("escape")).await;
    let _fake = fake_client(console.ctcs, "<b>bold</b>.torrent", SCRIPT).await;
    let t = first_torrent(console.web).await;
    let id = t["id"].as_u64().unwrap();
    wait_for(Duration::from_secs(5), "the file list", || async {
        let d = get_json(console.web, &format!("/api/torrents/{id}")).await;
        (!d["files"].as_array()?.is_empty() && !d["peers"].as_array()?.is_empty()).then_some(())
    })
    .await;
    let (status, head, page) =
        http(console.web, "GET", &format!("/torrent/{id}"), None, None).await;
    assert_eq!(status, 200);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains(SCRIPT));
    assert!(page.contains("-CD0303-&lt;i&gt;peer&lt;/i&gt;"));
    assert!(!page.contains("<i>peer</i>"));
    assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;.torrent"));
    assert!(!page.contains("<b>bold</b>"));
    // The only script element is the console's own file.
    assert_eq!(page.matches("<script").count(), 1);
    for path in ["/", "/limits"] {
        let (_, _, page) = http(console.web, "GET", path, None, None).await;
        assert!(page.contains("&lt;b&gt;bold&lt;/b&gt;.torrent"), "{path}");
        assert!(!page.contains("<b>bold</b>"), "{path}");
        assert_eq!(page.matches("<script").count(), 1, "{path}");
    }
    // The JSON keeps the text as sent.
    let d = get_json(console.web, &format!("/api/torrents/{id}")).await;
    assert_eq!(d["files"][0]["name"], SCRIPT);
}

#[tokio::test]
async fn web_password_is_required_and_checked() {
    let options = ServeOptions {
        web_password: Some("hunter2".into()),
        ..test_options("password")
    };
    let console = start(options).await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (status, head, _) = http(console.web, "GET", "/api/torrents", None, None).await;
    assert_eq!(status, 401);
    assert!(head.contains("Basic realm="), "{head}");
    let (status, _, _) = http(console.web, "GET", "/", None, Some(&b64("admin:wrong"))).await;
    assert_eq!(status, 401);
    let (status, _, body) = http(
        console.web,
        "GET",
        "/api/torrents",
        None,
        Some(&b64("admin:hunter2")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, "[]");
    // The CTCS side does not take the web password (nor need it).
    let _fake = fake_client(console.ctcs, "x.torrent", "x").await;
    wait_for(Duration::from_secs(5), "the client", || async {
        let (_, _, body) = http(
            console.web,
            "GET",
            "/api/torrents",
            None,
            Some(&b64("u:hunter2")),
        )
        .await;
        body.contains("x.torrent").then_some(())
    })
    .await;

    // Beyond loopback without a password: refused before binding anything.
    let open = ServeOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..test_options("open")
    };
    match trackwire_console::bind(open).await {
        Err(ServeError::Options(e)) => {
            assert_eq!(e.option, "web_password");
            assert!(matches!(e.kind, OptionsErrorKind::PasswordRequired { .. }));
            assert!(e.to_string().contains("web password"), "{e}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("an open console without a password started"),
    }
}

#[tokio::test]
async fn separate_web_address_and_foreign_hosts() {
    let options = ServeOptions {
        web: Some("127.0.0.1:0".parse().unwrap()),
        ..test_options("split")
    };
    let console = start(options).await;
    assert_ne!(console.ctcs, console.web);
    // A browser on the clients' port is pointed to the console, never given to CTCS.
    let (status, _, body) = http(console.ctcs, "GET", "/", None, None).await;
    assert_eq!(status, 421);
    assert!(body.contains(&format!("http://{}/", console.web)), "{body}");
    assert!(!body.contains("PROTOCOL"));
    let (status, _, page) = http(console.web, "GET", "/", None, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("All torrents"));
    // A ctorrent client on the console's address gets no session and no HTTP answer.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(console.web).await.unwrap();
        s.write_all(b"PROTOCOL 0003\nCTORRENT -CD0303-x 1 1 wrong.torrent\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("closed");
        assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
        let list = get_json(console.web, "/api/torrents").await;
        assert_eq!(list, serde_json::json!([]));
    }
    // DNS rebinding: a name other than localhost is refused without a password.
    let mut s = tokio::net::TcpStream::connect(console.web).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"GET /api/torrents HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf.starts_with(b"HTTP/1.1 421"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
}

#[tokio::test]
async fn limits_and_history_survive_a_restart() {
    let options = test_options("persist");
    let db = options.database.clone().unwrap();
    {
        let console = start(options.clone()).await;
        let (status, _, body) = http(
            console.web,
            "POST",
            "/api/limits",
            Some(r#"{"dl_cap": 102400, "ul_cap": 51200}"#),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, _, _) = http(
            console.web,
            "POST",
            "/api/limits",
            Some(r#"{"dl_cap": 4294967295, "ul_cap": 0}"#),
            None,
        )
        .await;
        assert_eq!(status, 400);
        let mut fake = fake_client(console.ctcs, "kept.torrent", "f").await;
        let id = first_torrent(console.web).await["id"].as_u64().unwrap();
        let policy = r#"{"dl_min": 1024, "dl_max": 8192, "dl_shared": false, "ul_min": 0, "ul_max": 0, "ul_shared": true, "ratio_cap": 150}"#;
        let (status, _, body) = http(
            console.web,
            "POST",
            &format!("/api/torrents/{id}/policy"),
            Some(policy),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let bad = r#"{"dl_min": 9000, "dl_max": 8192, "dl_shared": false, "ul_min": 0, "ul_max": 0, "ul_shared": true, "ratio_cap": 0}"#;
        let (status, _, _) = http(
            console.web,
            "POST",
            &format!("/api/torrents/{id}/policy"),
            Some(bad),
            None,
        )
        .await;
        assert_eq!(status, 400);
        let (status, _, _) = http(
            console.web,
            "POST",
            &format!("/api/torrents/{id}/quit"),
            Some("{}"),
            None,
        )
        .await;
        assert_eq!(status, 202);
        // The cap set above lets the allocator send limits too: skip them.
        loop {
            match fake.got.recv().await {
                Some(Got::Quit) => break,
                Some(Got::DownloadLimit(_) | Got::UploadLimit(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        wait_for(Duration::from_secs(5), "the history entry", || async {
            let h = get_json(console.web, "/api/history").await;
            (h[0]["name"] == "kept.torrent").then_some(())
        })
        .await;
    }
    // Writes go through the blocking pool: wait until a fresh console sees them all.
    wait_for(
        Duration::from_secs(5),
        "the saved state after a restart",
        || {
            let options = ServeOptions {
                database: Some(db.clone()),
                ..options.clone()
            };
            async move {
                let console = start(options).await;
                let limits = get_json(console.web, "/api/limits").await;
                let hist = get_json(console.web, "/api/history").await;
                let ok = limits["dl_cap"] == 102_400
                    && limits["ul_cap"] == 51_200
                    && limits["policies"]["kept.torrent"]["dl_max"] == 8192
                    && limits["policies"]["kept.torrent"]["ratio_cap"] == 150
                    && !limits["policies"]["kept.torrent"]["dl_shared"].as_bool()?
                    && hist[0]["name"] == "kept.torrent";
                ok.then_some(())
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_global_cap_is_shared_by_the_allocator() {
    let console = start(test_options("alloc")).await;
    let mut a = fake_client(console.ctcs, "a.torrent", "a").await;
    let mut b = fake_client(console.ctcs, "b.torrent", "b").await;
    wait_for(Duration::from_secs(5), "both clients", || async {
        let list = get_json(console.web, "/api/torrents").await;
        (list
            .as_array()?
            .iter()
            .filter(|t| t["status_at"].is_number())
            .count()
            == 2)
            .then_some(())
    })
    .await;
    // No cap: the allocator leaves everyone alone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.got.try_recv().is_err());
    assert!(b.got.try_recv().is_err());
    let (status, _, _) = http(
        console.web,
        "POST",
        "/api/limits",
        Some(r#"{"dl_cap": 100000, "ul_cap": 0}"#),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ov = get_json(console.web, "/api/overview").await;
    assert_eq!(ov["automatic"], true);
    let first_download_limit = |got: &mut tokio::sync::mpsc::UnboundedReceiver<Got>| {
        let mut got = std::mem::replace(got, tokio::sync::mpsc::unbounded_channel().1);
        async move {
            let r = tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    match got.recv().await {
                        Some(Got::DownloadLimit(l)) => return l,
                        Some(_) => continue,
                        None => panic!("the client went away"),
                    }
                }
            })
            .await
            .expect("the allocator sets a download limit");
            (r, got)
        }
    };
    let (la, _) = first_download_limit(&mut a.got).await;
    let (lb, _) = first_download_limit(&mut b.got).await;
    assert!(la > 0 && lb > 0, "{la} {lb}");
    assert!(la + lb <= 100_000, "{la} + {lb} exceed the cap");
}

#[tokio::test]
async fn the_ctcs_password_is_checked_and_separate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let options = ServeOptions {
        ctcs_password: Some("s3cret pw".into()),
        ..test_options("ctcs-password")
    };
    let console = start(options).await;
    // dnh3.3.2's own bytes: the password keeps the newline fgets read.
    let mut good = tokio::net::TcpStream::connect(console.ctcs).await.unwrap();
    good.write_all(
        b"PROTOCOL 0003\nAUTH s3cret pw\n\nCTORRENT -CD0303-goodgoodgood 1 1 good.torrent\n",
    )
    .await
    .unwrap();
    let mut bad = tokio::net::TcpStream::connect(console.ctcs).await.unwrap();
    bad.write_all(b"PROTOCOL 0003\nAUTH wrong\n\nCTORRENT -CD0303-badbadbadbad 1 1 bad.torrent\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), bad.read_to_end(&mut got))
        .await
        .expect("the rejected client is closed")
        .unwrap();
    assert_eq!(got, b"PROTOCOL 0003\nERROR Authentication failed\n");
    wait_for(
        Duration::from_secs(5),
        "the authenticated client",
        || async {
            let list = get_json(console.web, "/api/torrents").await;
            let names: Vec<_> = list.as_array()?.iter().map(|t| t["name"].clone()).collect();
            (names == ["good.torrent"]).then_some(())
        },
    )
    .await;
    // The clients' password does not open the web console's routes to anyone else, nor
    // is it needed there (no web password on loopback).
    let (status, _, _) = http(console.web, "GET", "/api/history", None, None).await;
    assert_eq!(status, 200);
    let hist = get_json(console.web, "/api/history").await;
    assert_eq!(
        hist,
        serde_json::json!([]),
        "a rejected client never identified itself"
    );
}

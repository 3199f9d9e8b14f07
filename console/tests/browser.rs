//! The web console in a real browser (Debian's chromium through chromedriver and
//! WebDriver) with two real ctorrent clients: one seeding, one downloading from it
//! through opentracker. Screenshots go to `target/console-screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use sha1::{Digest, Sha1};
use trackwire_console::ServeOptions;

/// A child process killed (by its own handle) when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The end of the bencoded value starting at `i`.
fn bencode_end(d: &[u8], i: usize) -> usize {
    match d[i] {
        b'i' => d[i..].iter().position(|&b| b == b'e').unwrap() + i + 1,
        b'l' | b'd' => {
            let mut j = i + 1;
            while d[j] != b'e' {
                j = bencode_end(d, j);
            }
            j + 1
        }
        _ => {
            let colon = d[i..].iter().position(|&b| b == b':').unwrap() + i;
            let n: usize = std::str::from_utf8(&d[i..colon]).unwrap().parse().unwrap();
            colon + 1 + n
        }
    }
}

/// The info-hash of a metainfo file, as hex.
fn info_hash(torrent: &Path) -> String {
    let d = std::fs::read(torrent).unwrap();
    let key = d.windows(6).position(|w| w == b"4:info").unwrap() + 6;
    let end = bencode_end(&d, key);
    let digest = Sha1::digest(&d[key..end]);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn ctorrent(dir: &Path, args: &[&str], log: &str) -> Child {
    let out = std::fs::File::create(dir.join(log)).unwrap();
    Command::new("ctorrent")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("ctorrent")
}

fn screenshots_dir() -> PathBuf {
    // CARGO_MANIFEST_DIR is console/; the workspace target is beside it.
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("console-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Saves the page's screenshot and checks it is not blank: decodes the PNG and
/// requires luminance variance and a spread of colours.
async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let png_bytes = c.screenshot().await.expect("screenshot");
    let path = screenshots_dir().join(name);
    std::fs::write(&path, &png_bytes).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let (mut n, mut sum, mut sq) = (0f64, 0f64, 0f64);
    let mut colours = std::collections::HashSet::new();
    for px in pixels.chunks(channels) {
        let l =
            (f64::from(px[0]) + f64::from(px[1 % channels]) + f64::from(px[2 % channels])) / 3.0;
        n += 1.0;
        sum += l;
        sq += l * l;
        colours.insert((px[0], px[1 % channels], px[2 % channels]));
    }
    let mean = sum / n;
    let variance = sq / n - mean * mean;
    assert!(
        info.width >= 800 && info.height >= 600,
        "{name}: {}x{}",
        info.width,
        info.height
    );
    assert!(
        variance > 100.0,
        "{name} looks blank: luminance variance {variance:.1}"
    );
    assert!(
        colours.len() > 20,
        "{name} looks blank: {} colours",
        colours.len()
    );
    path
}

async fn api(web: std::net::SocketAddr, path: &str) -> serde_json::Value {
    get_json(web, path).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "browser: needs chromium, chromedriver and ctorrent; .ci/run runs them with --include-ignored"]
async fn console_in_chromium_with_two_real_ctorrent_clients() {
    let dir = temp_dir("browser");
    std::fs::create_dir_all(dir.join("seed")).unwrap();
    std::fs::create_dir_all(dir.join("leech")).unwrap();
    // 3 MB of deterministic, incompressible-enough bytes.
    let mut x: u32 = 0x1234_5678;
    let payload: Vec<u8> = (0..3_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(dir.join("seed").join("payload.bin"), &payload).unwrap();

    // opentracker (Debian's is a whitelist build: the torrent's hash goes in the list).
    let tracker_port = free_port();
    let announce = format!("http://127.0.0.1:{tracker_port}/announce");
    let made = Command::new("ctorrent")
        .args([
            "-t",
            "-u",
            &announce,
            "-s",
            "seed.torrent",
            "seed/payload.bin",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("ctorrent -t");
    assert!(made.status.success(), "{made:?}");
    std::fs::copy(dir.join("seed.torrent"), dir.join("leech.torrent")).unwrap();
    let ot = dir.join("ot");
    std::fs::create_dir_all(&ot).unwrap();
    std::fs::write(
        ot.join("whitelist.txt"),
        format!("{}\n", info_hash(&dir.join("seed.torrent"))),
    )
    .unwrap();
    std::fs::write(
        ot.join("opentracker.conf"),
        format!(
            "listen.tcp 127.0.0.1:{tracker_port}\nlisten.udp 127.0.0.1:{}\ntracker.rootdir {}\naccess.whitelist whitelist.txt\ntracker.user nobody\n",
            free_port(),
            ot.display()
        ),
    )
    .unwrap();
    let _tracker = Proc(
        Command::new("opentracker")
            .args(["-f", ot.join("opentracker.conf").to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("opentracker"),
    );

    // The console, polling statuses every second.
    let console = start(ServeOptions {
        status_interval: Duration::from_secs(1),
        ..test_options("browser")
    })
    .await;
    let ctcs = console.ctcs.to_string();
    let web = console.web;

    // ctorrent takes peers on its own address for itself and keeps one connection per
    // address, and opentracker lists the asker too: each client gets a loopback address
    // of its own.
    let (seed_port, leech_port) = (free_port().to_string(), free_port().to_string());
    let _seeder = Proc(ctorrent(
        &dir,
        &[
            "-S",
            &ctcs,
            "-i",
            "127.0.0.2",
            "-p",
            &seed_port,
            "-s",
            "seed/payload.bin",
            "seed.torrent",
        ],
        "seeder.log",
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut leecher = Proc(ctorrent(
        &dir,
        &[
            "-S",
            &ctcs,
            "-i",
            "127.0.0.3",
            "-p",
            &leech_port,
            "-D",
            "48",
            "-s",
            "leech/payload.bin",
            "leech.torrent",
        ],
        "leecher.log",
    ));

    // chromedriver and a headless chromium.
    let driver_port = free_port();
    let _driver = Proc(
        Command::new("chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    let profile = dir.join("chromium-profile");
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }))
    .unwrap();
    let webdriver = format!("http://127.0.0.1:{driver_port}");
    let c = wait_for(Duration::from_secs(20), "chromedriver and chromium", || {
        let caps = caps.clone();
        let webdriver = webdriver.clone();
        async move {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&webdriver)
                .await
                .ok()
        }
    })
    .await;

    // 1. All torrents: both clients, with the downloader's live rate.
    let (seed_id, leech_id) = wait_for(
        Duration::from_secs(30),
        "both clients with statuses",
        || async {
            let list = api(web, "/api/torrents").await;
            let find = |name: &str| {
                list.as_array()?
                    .iter()
                    .find(|t| t["name"] == name && t["status_at"].is_number())
                    .and_then(|t| t["id"].as_u64())
            };
            Some((find("seed.torrent")?, find("leech.torrent")?))
        },
    )
    .await;
    c.goto(&format!("http://{web}/")).await.unwrap();
    let rate_text = wait_for(
        Duration::from_secs(40),
        "a live download rate on the page",
        || async {
            let rows = c.find_all(Locator::Css("#torrents tbody tr")).await.ok()?;
            if rows.len() != 2 {
                return None;
            }
            let cell = c
                .find(Locator::Css(&format!(
                    "#torrents tr[data-id=\"{leech_id}\"] .dl-rate"
                )))
                .await
                .ok()?;
            let text = cell.text().await.ok()?;
            (text != "0 B /s").then_some(text)
        },
    )
    .await;
    let body = c
        .find(Locator::Css("#torrents"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("seed.torrent") && body.contains("leech.torrent"),
        "{body}"
    );
    let first = screenshot(&c, "all-torrents.png").await;
    // Live: the rate cell changes without a reload (the page polls the API).
    let marker = c
        .find(Locator::Css("#live"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(marker, "live");
    eprintln!("rate shown: {rate_text}; screenshot {}", first.display());

    // 2. Advanced limits: a download limit set in the form reaches the downloader, and
    //    its next CTSTATUS shows it.
    c.goto(&format!("http://{web}/limits")).await.unwrap();
    let form = format!("#limits form.set-limits[data-id=\"{leech_id}\"]");
    let input = wait_for(Duration::from_secs(10), "the limits form", || async {
        c.find(Locator::Css(&format!("{form} input[name=dl_limit]")))
            .await
            .ok()
    })
    .await;
    input.send_keys("16").await.unwrap();
    let before = api(web, &format!("/api/torrents/{leech_id}")).await["status_at"]
        .as_i64()
        .unwrap();
    c.find(Locator::Css(&format!("{form} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(15),
        "dl_limit 16384 in a CTSTATUS after the form",
        || async {
            let t = api(web, &format!("/api/torrents/{leech_id}")).await;
            (t["dl_limit"] == 16384 && t["status_at"].as_i64()? > before).then_some(())
        },
    )
    .await;
    wait_for(
        Duration::from_secs(5),
        "the new limit on the page",
        || async {
            let cell = c
                .find(Locator::Css(&format!(
                    "#limits tr[data-id=\"{leech_id}\"] .current"
                )))
                .await
                .ok()?;
            cell.text()
                .await
                .ok()?
                .starts_with("16.0 KiB /s")
                .then_some(())
        },
    )
    .await;
    screenshot(&c, "advanced-limits.png").await;

    // 3. Torrent details: max_peers changed in the configuration form shows in the
    //    client's next configuration list.
    c.goto(&format!("http://{web}/torrent/{leech_id}"))
        .await
        .unwrap();
    let cfg = "form.cfg[data-name=\"max_peers\"]";
    let input = wait_for(Duration::from_secs(15), "the max_peers form", || async {
        c.find(Locator::Css(&format!("{cfg} input"))).await.ok()
    })
    .await;
    input.clear().await.unwrap();
    input.send_keys("55").await.unwrap();
    c.find(Locator::Css(&format!("{cfg} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(15),
        "max_peers 55 in the client's config list",
        || async {
            let t = api(web, &format!("/api/torrents/{leech_id}")).await;
            t["config"]
                .as_array()?
                .iter()
                .any(|o| o["name"] == "max_peers" && o["value"] == "55")
                .then_some(())
        },
    )
    .await;
    wait_for(
        Duration::from_secs(5),
        "max_peers 55 on the page",
        || async {
            let cell = c
                .find(Locator::Css("#config tr[data-name=\"max_peers\"] .current"))
                .await
                .ok()?;
            (cell.text().await.ok()? == "55").then_some(())
        },
    )
    .await;
    // Files and peers of the real client are listed.
    wait_for(
        Duration::from_secs(10),
        "files and peers on the page",
        || async {
            let files = c
                .find(Locator::Css("#files tbody"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            let peers = c
                .find(Locator::Css("#peers tbody"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (files.contains("payload.bin") && peers.contains("127.0.0.2")).then_some(())
        },
    )
    .await;
    screenshot(&c, "torrent-details.png").await;

    // 4. Terminate: the client exits.
    c.find(Locator::Css("#act-quit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = wait_for(Duration::from_secs(40), "the downloader to exit", || {
        let done = leecher.0.try_wait().unwrap();
        async move { done }
    })
    .await;
    assert!(status.success(), "ctorrent exited with {status}");
    wait_for(
        Duration::from_secs(10),
        "the downloader in the history",
        || async {
            let h = api(web, "/api/history").await;
            let list = api(web, "/api/torrents").await;
            let gone = !list.as_array()?.iter().any(|t| t["id"] == leech_id);
            (gone && h.as_array()?.iter().any(|t| t["name"] == "leech.torrent")).then_some(())
        },
    )
    .await;
    c.goto(&format!("http://{web}/")).await.unwrap();
    wait_for(
        Duration::from_secs(5),
        "the terminated list on the page",
        || async {
            let t = c
                .find(Locator::Css("#history tbody"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            t.contains("leech.torrent").then_some(())
        },
    )
    .await;
    screenshot(&c, "all-torrents-after-quit.png").await;
    // The seeder is still there.
    let list = api(web, "/api/torrents").await;
    assert!(list.as_array().unwrap().iter().any(|t| t["id"] == seed_id));
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

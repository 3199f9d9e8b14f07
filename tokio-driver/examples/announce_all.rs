//! Announces one torrent to UDP trackers in BEP 12 tiers and prints each tracker's result
//! as it arrives, then the merged peers.
//!
//! ```text
//! cargo run --example announce_all -- [--mode tiers|all-tiers|all] INFO_HASH_HEX40 TIER [TIER ...]
//! ```
//!
//! Each TIER is one or more tracker URLs separated by commas (`udp://host:port/path`; a
//! bare `host:port` means `udp://host:port`). Exit status: 0 when every tracker
//! answered, 1 when any failed, 2 for a usage error.

use std::process::ExitCode;

use trackwire::udp::{AnnounceMode, AnnounceParams, AnnouncerConfig, InfoHash, PeerId};
use trackwire_tokio::announce::{announce_tiers, TrackerReport};

const USAGE: &str =
    "usage: announce_all [--mode tiers|all-tiers|all] INFO_HASH_HEX40 URL[,URL...] [URL[,URL...] ...]";

#[derive(Debug)]
struct Args {
    mode: AnnounceMode,
    hash: InfoHash,
    tiers: Vec<Vec<String>>,
}

fn parse_hash(hex: &str) -> Result<InfoHash, String> {
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("info hash: 40 hex digits expected, got {hex:?}"));
    }
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).ok_or("info hash: cut short")?;
        *byte = u8::from_str_radix(pair, 16).map_err(|e| format!("info hash: {e}"))?;
    }
    Ok(InfoHash(out))
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut mode = AnnounceMode::Tiers;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mode" => {
                mode = match args.next().as_deref() {
                    Some("tiers") => AnnounceMode::Tiers,
                    Some("all-tiers") => AnnounceMode::AllTiers,
                    Some("all") => AnnounceMode::AllTrackers,
                    other => return Err(format!("--mode: tiers, all-tiers or all, not {other:?}")),
                }
            }
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    let hash = parse_hash(&positional.next().ok_or("no info hash")?)?;
    let tiers: Vec<Vec<String>> = positional
        .map(|tier| {
            tier.split(',')
                .filter(|u| !u.is_empty())
                .map(|u| {
                    if u.contains("://") {
                        u.to_owned()
                    } else {
                        format!("udp://{u}")
                    }
                })
                .collect()
        })
        .collect();
    if tiers.iter().all(Vec::is_empty) {
        return Err("no tracker".into());
    }
    Ok(Args { mode, hash, tiers })
}

fn print(r: &TrackerReport) {
    let mut line = format!("tier {} {}: {}", r.tier, r.url, r.state.name());
    if let (Some(s), Some(l)) = (r.seeders, r.leechers) {
        line += &format!(", {s} seeders, {l} leechers, {} peers", r.peers);
    }
    if let Some(m) = &r.message {
        line += &format!(" ({m})");
    }
    println!("{line}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("announce_all: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Transaction ids and the key are the only defence against forged replies: seed them
    // from the OS.
    let (seed, key) = match (getrandom::u64(), getrandom::u32()) {
        (Ok(s), Ok(k)) => (s, k),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("announce_all: no OS randomness: {e}");
            return ExitCode::from(1);
        }
    };
    let mut params = AnnounceParams::new(args.hash, PeerId(*b"-TW0001-tokio-000001"), 6881);
    params.key = key;
    let config = AnnouncerConfig::new().with_mode(args.mode);
    match announce_tiers(&args.tiers, config, params, seed, print).await {
        Ok(summary) => {
            for peer in &summary.peers {
                println!("peer {peer}");
            }
            if summary.all_working() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("announce_all: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Args, String> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        assert!(args(&["abc", "1.2.3.4:1"])
            .unwrap_err()
            .contains("40 hex digits"));
        // Odd length, and a multi-byte character at an even offset: no panic.
        assert!(args(&[&"a".repeat(39), "x:1"]).is_err());
        assert!(args(&[&format!("{}é", "a".repeat(38)), "x:1"]).is_err());
        assert_eq!(args(&[&"a".repeat(40)]).unwrap_err(), "no tracker");
        assert!(args(&["--mode", "x", &"a".repeat(40), "x:1"]).is_err());
        assert!(args(&["--bogus"]).unwrap_err().contains("unknown flag"));
        let a = args(&["--mode", "all", &"0f".repeat(20), "a:1,udp://b:2/x", "c:3"]).unwrap();
        assert_eq!(a.mode, AnnounceMode::AllTrackers);
        assert_eq!(a.hash, InfoHash([0x0f; 20]));
        assert_eq!(
            a.tiers,
            [vec!["udp://a:1", "udp://b:2/x"], vec!["udp://c:3"]]
        );
    }
}

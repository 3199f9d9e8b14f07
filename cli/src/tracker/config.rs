//! The settings of a run: flags over the `--config` TOML file over the defaults, each
//! checked against its range (a bad value is a usage error, exit 64, naming the range).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{AccessMode, TrackerArgs};
use crate::failure::Failure;

/// The `--config` file: every key optional, the names of the flags with `_` for `-`.
/// Unknown keys are refused, so that a misspelt key is not silently ignored.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    bind: Option<Vec<String>>,
    workers: Option<u64>,
    interval: Option<u64>,
    interval_jitter: Option<u64>,
    peer_timeout: Option<u64>,
    max_age: Option<u64>,
    max_torrents: Option<u64>,
    max_peers_per_torrent: Option<u64>,
    recv_buffer: Option<u64>,
    log_requests: Option<bool>,
    access_list: Option<PathBuf>,
    access_mode: Option<AccessMode>,
    passkeys: Option<PathBuf>,
    rate_limit: Option<String>,
    rate_limit_exempt: Option<Vec<String>>,
    metrics: Option<String>,
}

/// Everything a run needs, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) bind: Vec<String>,
    pub(crate) workers: usize,
    pub(crate) interval: u32,
    pub(crate) interval_jitter: u32,
    pub(crate) peer_timeout: Duration,
    pub(crate) max_age: Duration,
    pub(crate) max_torrents: usize,
    pub(crate) max_peers_per_torrent: usize,
    pub(crate) recv_buffer: usize,
    pub(crate) log_requests: bool,
    pub(crate) access_list: Option<PathBuf>,
    pub(crate) access_mode: AccessMode,
    pub(crate) passkeys: Option<PathBuf>,
    pub(crate) rate_limit: Option<(u32, u32)>,
    /// Sources (address, prefix length) the rate limit never applies to.
    pub(crate) rate_limit_exempt: Vec<(std::net::IpAddr, u8)>,
    pub(crate) metrics: Option<String>,
}

/// Defaults, shared with the help text.
pub(crate) const DEFAULT_INTERVAL: u32 = 1800;
pub(crate) const DEFAULT_MAX_AGE: u64 = 120;
pub(crate) const DEFAULT_MAX_TORRENTS: u64 = 1_000_000;
pub(crate) const DEFAULT_MAX_PEERS_PER_TORRENT: u64 = 200_000;
/// 8 MiB: about 60 000 announces of 98 bytes (each costs ~2× in kernel accounting), a
/// few hundred milliseconds of a flood at full rate on one core.
pub(crate) const DEFAULT_RECV_BUFFER: u64 = 8 << 20;

/// A file value in `lo..=hi`, or a usage error naming the file, the key and the range.
fn ranged(
    file: &Path,
    key: &str,
    v: Option<u64>,
    lo: u64,
    hi: u64,
) -> Result<Option<u64>, Failure> {
    match v {
        Some(n) if !(lo..=hi).contains(&n) => Err(Failure::Usage(format!(
            "{}: `{key}` = {n} is not in {lo}..={hi}",
            file.display()
        ))),
        other => Ok(other),
    }
}

fn narrow<T: TryFrom<u64>>(v: Option<u64>) -> Option<T> {
    v.and_then(|n| T::try_from(n).ok())
}

impl Settings {
    /// Flags over the file (if `--config` names one) over the defaults.
    pub(crate) fn resolve(a: &TrackerArgs) -> Result<Settings, Failure> {
        let (f, path) = match &a.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Failure::Usage(format!("--config {}: {e}", path.display())))?;
                let f: File = toml::from_str(&text).map_err(|e| {
                    // toml's message spans lines (the excerpt, a caret): one line is enough.
                    let msg = e.message().trim().to_string();
                    let at = e
                        .span()
                        .map(|s| {
                            let line = text.get(..s.start).unwrap_or("").lines().count().max(1);
                            format!(" (line {line})")
                        })
                        .unwrap_or_default();
                    Failure::Usage(format!("--config {}: {msg}{at}", path.display()))
                })?;
                (f, path.clone())
            }
            None => (File::default(), PathBuf::new()),
        };
        let p = path.as_path();
        let workers = ranged(p, "workers", f.workers, 1, 1024)?;
        let interval = ranged(p, "interval", f.interval, 1, 86_400)?;
        let jitter = ranged(p, "interval_jitter", f.interval_jitter, 0, 43_200)?;
        let peer_timeout = ranged(p, "peer_timeout", f.peer_timeout, 1, 1_000_000)?;
        let max_age = ranged(p, "max_age", f.max_age, 120, 65_000)?;
        let max_torrents = ranged(p, "max_torrents", f.max_torrents, 1, 100_000_000)?;
        let max_peers = ranged(
            p,
            "max_peers_per_torrent",
            f.max_peers_per_torrent,
            1,
            10_000_000,
        )?;
        let recv_buffer = ranged(p, "recv_buffer", f.recv_buffer, 65_536, 1 << 30)?;
        let file_rate = match &f.rate_limit {
            Some(r) => Some(crate::cli::parse_rate(r).map_err(|e| {
                Failure::Usage(format!("{}: `rate_limit` = {r:?}: {e}", p.display()))
            })?),
            None => None,
        };
        let file_exempt = f
            .rate_limit_exempt
            .unwrap_or_default()
            .iter()
            .map(|e| {
                crate::cli::parse_prefix(e).map_err(|m| {
                    Failure::Usage(format!("{}: `rate_limit_exempt` = {e:?}: {m}", p.display()))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let bind = if a.bind.is_empty() {
            f.bind.unwrap_or_default()
        } else {
            a.bind.clone()
        };
        if bind.is_empty() {
            return Err(Failure::Usage(
                "--bind ADDR is required (or `bind = [\"ADDR\"]` in the --config file)".into(),
            ));
        }
        let interval = a.interval.or(narrow(interval)).unwrap_or(DEFAULT_INTERVAL);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Settings {
            bind,
            workers: a
                .workers
                .map(|n| n as usize)
                .or(narrow(workers))
                .unwrap_or(cores),
            interval,
            interval_jitter: a.interval_jitter.or(narrow(jitter)).unwrap_or(0),
            // Two missed announces and a margin.
            peer_timeout: Duration::from_secs(
                a.peer_timeout
                    .or(peer_timeout)
                    .unwrap_or(u64::from(interval) * 2 + 60),
            ),
            max_age: Duration::from_secs(a.max_age.or(max_age).unwrap_or(DEFAULT_MAX_AGE)),
            max_torrents: narrow(Some(
                a.max_torrents
                    .or(max_torrents)
                    .unwrap_or(DEFAULT_MAX_TORRENTS),
            ))
            .unwrap_or(usize::MAX),
            max_peers_per_torrent: narrow(Some(
                a.max_peers_per_torrent
                    .or(max_peers)
                    .unwrap_or(DEFAULT_MAX_PEERS_PER_TORRENT),
            ))
            .unwrap_or(usize::MAX),
            recv_buffer: narrow(Some(
                a.recv_buffer.or(recv_buffer).unwrap_or(DEFAULT_RECV_BUFFER),
            ))
            .unwrap_or(usize::MAX),
            log_requests: a.log_requests || f.log_requests.unwrap_or(false),
            access_list: a.access_list.clone().or(f.access_list),
            access_mode: a.access_mode.or(f.access_mode).unwrap_or(AccessMode::Allow),
            passkeys: a.passkeys.clone().or(f.passkeys),
            rate_limit: a.rate_limit.or(file_rate),
            rate_limit_exempt: if a.rate_limit_exempt.is_empty() {
                file_exempt
            } else {
                a.rate_limit_exempt.clone()
            },
            metrics: a.metrics.clone().or(f.metrics),
        })
    }
}

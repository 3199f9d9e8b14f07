//! The command line: every subcommand and flag, with the ranges values must lie in.
//! Flags carry over from the examples the tool replaces (`decode`, `announce`,
//! `check_tracker`, `tracker`, `ctcs_server`, `ctcs_client`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes, shown under every `--help`.
pub(crate) const EXIT_CODES: &str = "\
Exit status:
  0   success
  1   a failed check, an error reply, or input that does not decode
  2   a timeout, or a peer that cannot be reached
  64  a usage error (bad flag or value)";

/// Decode, announce, check or run a BitTorrent UDP tracker (BEP 15, BEP 41); serve,
/// simulate or check CTCS (Enhanced CTorrent's control protocol).
#[derive(Parser, Debug)]
#[command(name = "trackwire", version, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Decode UDP tracker datagrams or CTCS transcripts into one JSON object per message
    Decode {
        #[command(subcommand)]
        what: DecodeCommand,
    },
    /// Announce to (or scrape) UDP trackers, all at once, and print each reply as it arrives
    #[command(after_help = EXIT_CODES)]
    Announce(AnnounceArgs),
    /// Run a conformance battery against a live UDP tracker (PASS / WARN / FAIL rows)
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Run a UDP tracker: every core, access lists, passkeys, rate limits, metrics
    #[command(after_help = crate::tracker::HELP)]
    Tracker(TrackerArgs),
    /// CTCS: a control server, a simulated ctorrent, or a server conformance check
    Ctcs {
        #[command(subcommand)]
        what: CtcsCommand,
    },
    /// Print a shell completion script (e.g. `trackwire completions bash > /etc/bash_completion.d/trackwire`)
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

/// `trackwire decode …`.
#[derive(Subcommand, Debug)]
pub(crate) enum DecodeCommand {
    /// UDP tracker datagrams: hex arguments, capture lines on stdin, or a pcap/pcapng file
    #[command(after_help = DECODE_UDP_HELP)]
    Udp(DecodeUdpArgs),
    /// A CTCS transcript on stdin (`C> t cN bytes` / `S> t cN bytes` lines)
    #[command(after_help = EXIT_CODES)]
    Ctcs(DecodeCtcsArgs),
}

const DECODE_UDP_HELP: &str = "\
Input, in order of precedence: --pcap FILE; HEX arguments; else capture lines on stdin
(`t dir src dst len hex`, dir C>T or T>C, as in the project's test vectors).

With --pcap, every UDP datagram over IPv4 or IPv6 is decoded (Ethernet, Linux cooked
capture v1 and v2, raw IP and BSD loopback link types), with `ts`, `src`, `dst` and
`from` added to its JSON. Frames that are not UDP (TCP, ARP, IP fragments after the
first, other link types) are skipped and counted on stderr; they do not change the exit
status. A truncated or corrupt file stops the decoding with exit status 1 after what
decoded before it.

Exit status:
  0   every message decoded
  1   a message did not decode (its JSON has `error` and `offset`), or the input is unreadable
  64  a usage error (bad flag or value, bad hex)";

/// How a datagram's direction is given.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum From {
    /// Requests (client to tracker)
    Client,
    /// Responses (tracker to client)
    Tracker,
}

/// `trackwire decode udp`.
#[derive(Args, Debug)]
pub(crate) struct DecodeUdpArgs {
    /// Read peers in responses as IPv6 (18 bytes each); hex arguments only
    #[arg(long)]
    pub(crate) ipv6: bool,
    /// Who sent the datagrams (hex arguments; with --pcap when --port is not given)
    #[arg(long, value_enum, default_value = "client")]
    pub(crate) from: From,
    /// Read announce tails as the libtorrent/xbt extensions instead of BEP 41 options
    #[arg(long)]
    pub(crate) legacy_extensions: bool,
    /// A pcap or pcapng capture file to decode
    #[arg(long, value_name = "FILE", conflicts_with = "hex")]
    pub(crate) pcap: Option<PathBuf>,
    /// With --pcap: only datagrams to or from this UDP port, the tracker's (direction
    /// then follows: to the port is a request, from it a response)
    #[arg(long, value_name = "N", requires = "pcap", conflicts_with = "hex", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,
    /// Datagrams as hex
    #[arg(value_name = "HEX")]
    pub(crate) hex: Vec<String>,
}

/// `trackwire decode ctcs`.
#[derive(Args, Debug)]
pub(crate) struct DecodeCtcsArgs {
    /// The protocol version in force before any `PROTOCOL` line (1, 2 or 3)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) protocol: u8,
}

/// The event field of an announce.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// 0: a regular announce
    None,
    /// 1
    Started,
    /// 2
    Completed,
    /// 3
    Stopped,
}

/// When the client gives up on an exchange.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Short retries, as seeding clients use (the library's `RetryPolicy::SEED`)
    Seed,
    /// BEP 15's 15 × 2^n seconds, n up to 8 (about an hour)
    Bep15,
}

/// `trackwire announce`.
#[derive(Args, Debug)]
pub(crate) struct AnnounceArgs {
    /// Tracker URLs, `udp://HOST:PORT[/path?query]` (path and query travel as BEP 41 URLData)
    #[arg(value_name = "URL", required = true)]
    pub(crate) urls: Vec<String>,
    /// The torrent's info hash, 40 hex digits
    #[arg(long, value_name = "HEX40", value_parser = parse_hash20)]
    pub(crate) info_hash: [u8; 20],
    /// Our peer id, 40 hex digits (default: `-TW0001-` and 12 random bytes)
    #[arg(long, value_name = "HEX40", value_parser = parse_hash20)]
    pub(crate) peer_id: Option<[u8; 20]>,
    /// The port we listen on
    #[arg(long, default_value_t = 6881)]
    pub(crate) port: u16,
    /// The announce event
    #[arg(long, value_enum, default_value = "none")]
    pub(crate) event: Event,
    /// Bytes left to download
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) left: i64,
    /// Bytes downloaded
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) downloaded: i64,
    /// Bytes uploaded
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub(crate) uploaded: i64,
    /// Peers wanted (-1: the tracker's default)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true, value_parser = clap::value_parser!(i32).range(-1..))]
    pub(crate) num_want: i32,
    /// Scrape the info hash instead of announcing
    #[arg(long)]
    pub(crate) scrape: bool,
    /// The retry schedule
    #[arg(long, value_enum, default_value = "seed")]
    pub(crate) retry: Retry,
    /// Give up after this many seconds, whatever the retry schedule (1 to 86400)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: Option<u64>,
    /// Print the reply as JSON (the keys of `trackwire decode udp`); otherwise one short line
    #[arg(long)]
    pub(crate) json: bool,
}

/// `trackwire check`.
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The tracker, `udp://HOST:PORT`
    #[arg(value_name = "URL")]
    pub(crate) url: String,
    /// One JSON object per row instead of text
    #[arg(long)]
    pub(crate) json: bool,
    /// Add the connection-id lifetime checks (they take an hour)
    #[arg(long)]
    pub(crate) long: bool,
    /// The torrent to announce (a whitelisting tracker needs one it knows)
    #[arg(long, value_name = "HEX40", value_parser = parse_hash20)]
    pub(crate) info_hash: Option<[u8; 20]>,
    /// How long to wait for each reply, in milliseconds (1 to 60000)
    #[arg(long, value_name = "N", default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub(crate) wait_ms: u64,
}

/// `trackwire tracker`. Every value flag is optional here so that a value in the
/// `--config` file can be told from a default: the flag wins over the file, the file over
/// the default (see `tracker::config`).
#[derive(Args, Debug, Default)]
pub(crate) struct TrackerArgs {
    /// A TOML configuration file (keys below); flags given as well override it
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// An address to serve on (host names resolve, e.g. `localhost:6969`; repeat for more;
    /// required here or as `bind` in the config file)
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Vec<String>,
    /// Worker threads, each with its own socket on every address (1 to 1024; default: the
    /// number of cores)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub(crate) workers: Option<u32>,
    /// The announce interval sent to clients, in seconds (1 to 86400; default 1800)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub(crate) interval: Option<u32>,
    /// Move each interval sent by up to this many seconds either way, at random (0 to
    /// 43200; default 0; capped at half the interval)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(0..=43_200))]
    pub(crate) interval_jitter: Option<u32>,
    /// Forget peers silent this long, in seconds (1 to 1000000; default: twice the interval
    /// plus a minute)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub(crate) peer_timeout: Option<u64>,
    /// How long a connection id stays valid, in seconds (120 to 65000; default 120)
    // The bounds are those `udp::Server` clamps to: refusing is better than clamping in
    // silence.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(120..=65_000))]
    pub(crate) max_age: Option<u64>,
    /// The most torrents held; announces for a new torrent beyond it get the error reply
    /// "tracker full: too many torrents" (1 to 100000000; default 1000000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub(crate) max_torrents: Option<u64>,
    /// The most peers held per torrent (both families); a new peer beyond it gets the
    /// error reply "tracker full: too many peers" (1 to 10000000; default 200000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub(crate) max_peers_per_torrent: Option<u64>,
    /// The kernel receive buffer asked for each socket (SO_RCVBUF), in bytes (65536 to
    /// 1073741824; default 8388608; the kernel caps it at net.core.rmem_max)
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(65_536..=1_073_741_824))]
    pub(crate) recv_buffer: Option<u64>,
    /// Print one line per request on stderr (buffered); quiet otherwise
    #[arg(long)]
    pub(crate) log_requests: bool,
    /// Info hashes, 40 hex digits a line (`#` comments, blank lines); re-read on SIGHUP
    #[arg(long, value_name = "FILE")]
    pub(crate) access_list: Option<PathBuf>,
    /// Whether --access-list names the torrents served (allow) or refused (deny); default
    /// allow
    #[arg(long, value_enum, value_name = "MODE")]
    pub(crate) access_mode: Option<AccessMode>,
    /// Private mode: passkeys, one a line (`#` comments, blank lines); announces must carry
    /// one in their URL (`/announce/KEY` or `?passkey=KEY`); re-read on SIGHUP
    #[arg(long, value_name = "FILE")]
    pub(crate) passkeys: Option<PathBuf>,
    /// Limit each source address (IPv6: each /64) to PER_SECOND datagrams a second, with
    /// bursts of BURST (default: twice PER_SECOND); each 1 to 1000000
    #[arg(long, value_name = "PER_SECOND[:BURST]", value_parser = parse_rate)]
    pub(crate) rate_limit: Option<(u32, u32)>,
    /// Serve Prometheus metrics over HTTP at `http://ADDR/metrics`
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics: Option<String>,
}

/// What `--access-list` names.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AccessMode {
    /// Serve only the listed info hashes
    Allow,
    /// Serve every info hash but the listed ones
    Deny,
}

/// `PER_SECOND[:BURST]`, each 1 to 1000000; BURST defaults to twice PER_SECOND.
pub(crate) fn parse_rate(s: &str) -> Result<(u32, u32), String> {
    const RANGE: &str = "PER_SECOND[:BURST], each 1 to 1000000";
    let one = |t: &str| -> Result<u32, String> {
        t.parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| format!("`{t}` is not in 1..=1000000; {RANGE}"))
    };
    match s.split_once(':') {
        Some((rate, burst)) => Ok((one(rate)?, one(burst)?)),
        None => {
            let rate = one(s)?;
            Ok((rate, rate.saturating_mul(2)))
        }
    }
}

/// `trackwire ctcs …`.
#[derive(Subcommand, Debug)]
pub(crate) enum CtcsCommand {
    /// A CTCS server for ctorrent clients: events as JSON lines on stdout, commands on stdin
    #[command(after_help = CTCS_SERVE_HELP)]
    Serve(CtcsServeArgs),
    /// A simulated ctorrent seeding an imaginary torrent, for testing CTCS servers
    #[command(after_help = EXIT_CODES)]
    Simulate(CtcsSimulateArgs),
    /// Run a conformance battery against a CTCS server, playing dnh3.3.2
    #[command(after_help = EXIT_CODES)]
    Check(CtcsCheckArgs),
}

const CTCS_SERVE_HELP: &str = "\
Commands, one per line on stdin (N is a connection number):
  N status | N peers | N detail | N config | N update | N restart | N quit
  N dlimit BYTES | N ulimit BYTES      (bytes per second, 0 = unlimited)
  N set NAME VALUE                    (v3 CTCONFIG name value)
  list                                (one `client` event per connection)

Exit status:
  1   the address cannot be bound
  64  a usage error (bad flag or value)
Otherwise it runs until killed.";

/// `trackwire ctcs serve`.
#[derive(Args, Debug)]
pub(crate) struct CtcsServeArgs {
    /// The address to listen on (host names resolve)
    #[arg(long, value_name = "ADDR", required = true)]
    pub(crate) listen: String,
    /// The password clients must send with AUTH
    #[arg(long, value_name = "PW")]
    pub(crate) password: Option<String>,
    /// The highest protocol version to negotiate (1, 2 or 3)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) protocol: u8,
    /// Ask every identified client for its status every SECS seconds (0.01 to 86400)
    #[arg(long, value_name = "SECS", value_parser = parse_poll)]
    pub(crate) poll: Option<Duration>,
}

/// `trackwire ctcs simulate`.
#[derive(Args, Debug)]
pub(crate) struct CtcsSimulateArgs {
    /// The CTCS server, HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) server: String,
    /// The password to send with AUTH
    #[arg(long, value_name = "PW")]
    pub(crate) password: Option<String>,
    /// How many peers the imaginary swarm has (0 to 500)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(0..=500))]
    pub(crate) peers: u16,
    /// How many files the imaginary torrent has (1 to 200)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub(crate) files: u16,
    /// The torrent's name
    #[arg(long, default_value = "simulated.torrent")]
    pub(crate) torrent: String,
    /// The initial download limit, bytes per second (0: none)
    #[arg(long, value_name = "BYTES", default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) dlimit: i32,
    /// The initial upload limit, bytes per second (0: none)
    #[arg(long, value_name = "BYTES", default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) ulimit: i32,
}

/// `trackwire ctcs check`.
#[derive(Args, Debug)]
pub(crate) struct CtcsCheckArgs {
    /// The CTCS server, HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) server: String,
    /// The password to send with AUTH
    #[arg(long, value_name = "PW")]
    pub(crate) password: Option<String>,
    /// One JSON object per row instead of text
    #[arg(long)]
    pub(crate) json: bool,
    /// How long to wait for the server at each step, in milliseconds (1 to 60000)
    #[arg(long, value_name = "N", default_value_t = 1500, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub(crate) wait_ms: u64,
}

/// 40 hex digits → 20 bytes.
fn parse_hash20(s: &str) -> Result<[u8; 20], String> {
    crate::udp_json::unhex(s)
        .and_then(|v| <[u8; 20]>::try_from(v).ok())
        .ok_or_else(|| "expected 40 hex digits".to_string())
}

/// Seconds as a decimal number, 0.01 to 86400 (a day); refuses what `Duration` cannot
/// hold rather than panicking or clamping.
fn parse_poll(s: &str) -> Result<Duration, String> {
    const RANGE: &str = "seconds from 0.01 to 86400";
    let secs: f64 = s.parse().map_err(|_| format!("not a number; {RANGE}"))?;
    if !(0.01..=86_400.0).contains(&secs) {
        return Err(format!("out of range; {RANGE}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

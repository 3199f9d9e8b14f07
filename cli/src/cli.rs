//! The command line: every subcommand and flag, with the ranges values must lie in.
//! Flags carry over from the examples the tool replaces (`decode`, `announce`,
//! `check_tracker`, `tracker`, `ctcs_server`, `ctcs_client`).

use std::net::IpAddr;
use std::path::PathBuf;

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
    /// Announce one torrent to UDP trackers in BEP 12 tiers (or scrape them); print each
    /// tracker's status and the merged peers
    #[command(after_help = ANNOUNCE_HELP)]
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

/// When the client gives up on an exchange.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Short retries, as seeding clients use (the library's `RetryPolicy::SEED`)
    Seed,
    /// BEP 15's 15 × 2^n seconds, n up to 8 (about an hour)
    Bep15,
}

/// Which trackers `announce` reaches: the two ways clients offer BEP 12 tiers.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// BEP 12 as written: tier by tier, each tier shuffled, until one tracker answers
    Tiers,
    /// One working tracker per tier, all tiers at once (libtorrent's announce_to_all_tiers)
    AllTiers,
    /// Every tracker (libtorrent's announce_to_all_trackers)
    All,
}

const ANNOUNCE_HELP: &str = "\
Trackers: positional URLs are one tier each; --tier gives a tier of several
(comma-separated); a FILE.torrent gives its `announce-list` tiers (or `announce`) and
its info hash. Tiers are tried in the order given: the torrent's, then --tier, then
positional URLs. A URL that does not parse is that tracker's `not_working` status, not
a usage error. Names resolve to every IPv4 and IPv6 address; both families announce.
Each tracker's first announce carries `started`; no `stopped` follows (the tracker
forgets the peer after its timeout).

Output: one row per tracker as its result is known (tier, status, seeders, leechers,
peers received, URL, last error), then the merged peers. With --json, one object:
{\"trackers\": [{\"url\", \"tier\", \"status\", \"message\", \"seeders\", \"leechers\",
\"peers\"}], \"peers\": [\"ip:port\", \"[v6]:port\", …]}, status one of working,
not_working, updating, not_contacted. With --scrape, one line (or JSON object) per
tracker, as each reply arrives.

Exit status:
  0   at least one tracker answered (with --scrape: every tracker did)
  1   the .torrent cannot be read or parsed; with --scrape, an error reply or a bad URL
  2   no tracker answered (with --scrape: a tracker timed out)
  64  a usage error (bad flag or value, bad hex)";

/// `trackwire announce`.
#[derive(Args, Debug)]
pub(crate) struct AnnounceArgs {
    /// Tracker URLs, `udp://HOST:PORT[/path?query]` (one tier each; path and query
    /// travel as BEP 41 URLData), or one .torrent file
    #[arg(value_name = "URL|FILE.torrent")]
    pub(crate) targets: Vec<String>,
    /// A tier of trackers: URLs separated by commas (repeat for the next tiers)
    #[arg(long = "tier", value_name = "URL[,URL…]")]
    pub(crate) tiers: Vec<String>,
    /// Which trackers to announce to
    #[arg(long, value_enum, default_value = "tiers")]
    pub(crate) mode: Mode,
    /// The torrent's info hash, 40 hex digits (required unless a .torrent is given)
    #[arg(long, value_name = "HEX40", value_parser = parse_hex20)]
    pub(crate) info_hash: Option<[u8; 20]>,
    /// Our peer id, 40 hex digits (default: `-TW0001-` and 12 random bytes)
    #[arg(long, value_name = "HEX40", value_parser = parse_hex20)]
    pub(crate) peer_id: Option<[u8; 20]>,
    /// The port we listen on
    #[arg(long, default_value_t = 6881)]
    pub(crate) port: u16,
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
    /// Scrape the info hash from every tracker instead of announcing
    #[arg(long)]
    pub(crate) scrape: bool,
    /// The retry schedule of each tracker address
    #[arg(long, value_enum, default_value = "seed")]
    pub(crate) retry: Retry,
    /// Give each tracker address at most this many seconds (1 to 86400) before it counts
    /// as not working
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: Option<u64>,
    /// Print one JSON object instead of the status table
    #[arg(long)]
    pub(crate) json: bool,
}

/// `trackwire check`.
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The tracker, `udp://HOST:PORT` (every address HOST resolves to is checked)
    #[arg(value_name = "URL")]
    pub(crate) url: String,
    /// One JSON object per row instead of text
    #[arg(long)]
    pub(crate) json: bool,
    /// Add the connection-id lifetime checks: reused after 2 minutes, 5 minutes (as
    /// uTorrent and BitComet do) and an hour (the run takes an hour)
    #[arg(long)]
    pub(crate) long: bool,
    /// Also write the rows as a self-contained HTML report to FILE
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
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
    /// Sources the rate limit never applies to: addresses or prefixes (`127.0.0.1`,
    /// `10.0.0.0/8`, `2001:db8::/32`), comma-separated or repeated — the operator's own
    /// monitoring and load generators
    #[arg(long, value_name = "ADDR[/PREFIX]", value_delimiter = ',', value_parser = parse_prefix)]
    pub(crate) rate_limit_exempt: Vec<(IpAddr, u8)>,
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
/// `ADDR` or `ADDR/PREFIX` (an address alone is its full length: /32 or /128).
pub(crate) fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("prefix length `{l}` is not in 0..={max}"))?,
    };
    Ok((addr, len))
}

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
    /// The CTCS web console: ctorrent clients connect, a browser watches and steers them
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
ctorrent clients connect with `ctorrent -S HOST:PORT` (`-S HOST:PORT:` prompts for the
--password). The console's pages and JSON API are served on --listen too (each
connection is told apart by its first bytes), or on --web. A console reachable beyond
loopback needs a web password (HTTP basic auth, any user name): --web-password, or the
environment variable TRACKWIRE_WEB_PASSWORD to keep it off the command line. The
operator's limits and the terminated torrents are kept in --db across restarts.

Durations are decimal seconds (0.5, 10, 1e3). Ctrl-C or SIGTERM stops it (exit 0).

Exit status:
  0   stopped by Ctrl-C or SIGTERM
  1   an address cannot be bound, or the database cannot be opened
  64  a usage error (bad flag or value; out-of-range values name the range)";

/// `trackwire ctcs serve`.
#[derive(Args, Debug)]
pub(crate) struct CtcsServeArgs {
    /// Where ctorrent clients (and browsers, unless --web is given) connect; host names resolve
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2780")]
    pub(crate) listen: String,
    /// Serve the web console on this address instead of --listen
    #[arg(long, value_name = "ADDR")]
    pub(crate) web: Option<String>,
    /// The web console's password (default: $TRACKWIRE_WEB_PASSWORD); required beyond loopback
    #[arg(long, value_name = "PW")]
    pub(crate) web_password: Option<String>,
    /// The password ctorrent clients must send with AUTH (1 to 20 bytes)
    #[arg(long, value_name = "PW")]
    pub(crate) password: Option<String>,
    /// The SQLite file for limits and history [default: $XDG_STATE_HOME/trackwire/ctcs.sqlite3]
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    /// The most connections (clients and browsers) open at once (1 to 65536)
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub(crate) max_connections: u32,
    /// Silence before a connection counts as a CTCS client waiting for the server (0.01 to 60)
    #[arg(
        long,
        value_name = "S",
        default_value = "2",
        allow_hyphen_values = true
    )]
    pub(crate) sniff_timeout: String,
    /// Time for a client to send CTORRENT, or a browser a request head (0.1 to 3600)
    #[arg(
        long,
        value_name = "S",
        default_value = "30",
        allow_hyphen_values = true
    )]
    pub(crate) handshake_timeout: String,
    /// Time a client may leave a line unfinished (0.1 to 3600)
    #[arg(
        long,
        value_name = "S",
        default_value = "60",
        allow_hyphen_values = true
    )]
    pub(crate) line_timeout: String,
    /// Time a client may send nothing before it is closed (1 to 86400; more than --status-interval)
    #[arg(
        long,
        value_name = "S",
        default_value = "300",
        allow_hyphen_values = true
    )]
    pub(crate) idle_timeout: String,
    /// How often every client is asked for its status, SENDSTATUS (1 to 3600)
    #[arg(
        long,
        value_name = "S",
        default_value = "10",
        allow_hyphen_values = true
    )]
    pub(crate) status_interval: String,
    /// The highest protocol version to offer (1, 2 or 3)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) protocol: u8,
    /// Also print every session event as one JSON line on stdout
    #[arg(long)]
    pub(crate) json_events: bool,
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

/// 40 hex digits → 20 bytes, refusing anything else (signs, odd lengths, non-ASCII) with
/// what is wrong and where.
fn parse_hex20(s: &str) -> Result<[u8; 20], String> {
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "{c:?} at byte {i} is not a hex digit; expected 40 hex digits"
        ));
    }
    if s.len() != 40 {
        return Err(format!("{} hex digits; expected 40 hex digits", s.len()));
    }
    parse_hash20(s)
}

/// 40 hex digits → 20 bytes.
fn parse_hash20(s: &str) -> Result<[u8; 20], String> {
    crate::udp_json::unhex(s)
        .and_then(|v| <[u8; 20]>::try_from(v).ok())
        .ok_or_else(|| "expected 40 hex digits".to_string())
}

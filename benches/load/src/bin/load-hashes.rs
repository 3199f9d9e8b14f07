//! Prints the info hashes aquatic_udp_load_test 0.9 announces, one lower-case hex hash a
//! line: the whitelist that lets Debian's opentracker (a whitelist build) serve the load
//! test, and the allow-list for `--access-list`.
//!
//! ```text
//! load-hashes [--count N] [--extra HEX]...
//! ```

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use trackwire_load::{hex, load_test_info_hashes, parse_hash, Args, LOAD_TEST_TORRENTS};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-hashes: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = Args::from_env("load-hashes [--count N] [--extra HEX]...")?;
    let count = args.get("count", LOAD_TEST_TORRENTS)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for hash in load_test_info_hashes(count) {
        writeln!(out, "{}", hex(&hash)).map_err(|e| format!("stdout: {e}"))?;
    }
    // Hashes the probe announces, so that one list serves the load test and the probe.
    for extra in args.all("extra") {
        let hash = parse_hash(extra)?;
        writeln!(out, "{}", hex(&hash)).map_err(|e| format!("stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("stdout: {e}"))
}

//! Packet and line inspector: decodes UDP tracker datagrams or CTCS transcripts and prints
//! one JSON object per message.
//!
//! ```text
//! cargo run --example decode -- udp [--ipv6] [--from client|tracker] [--legacy-extensions] [HEX ...]
//! cargo run --example decode -- ctcs [--protocol 1|2|3] < TRANSCRIPT
//! ```
//!
//! Exit status 1 if any message failed to decode, else 0.

use std::process::ExitCode;

mod ctcs;
#[path = "../common/ctcs_json.rs"]
mod ctcs_json;
mod udp;
#[path = "../common/udp_json.rs"]
mod udp_json;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("udp") => udp::run(args.collect()),
        Some("ctcs") => ctcs::run(args.collect()),
        _ => {
            eprintln!(
                "usage: decode udp [--ipv6] [--from client|tracker] [--legacy-extensions] [HEX ...]\n       decode ctcs [--protocol 1|2|3] < TRANSCRIPT"
            );
            ExitCode::from(2)
        }
    }
}

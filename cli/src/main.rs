//! `trackwire`: one command for what people run around the BitTorrent UDP tracker protocol
//! (BEP 15, BEP 41) and CTCS, the Enhanced CTorrent control protocol: decode captures,
//! announce, check or run a tracker, serve, simulate or check CTCS.
//!
//! Each subcommand is a thin driver over the `trackwire` library: the protocol lives in
//! the library, this crate only moves bytes, time and flags.

mod announce;
mod check;
mod check_html;
mod cli;
mod ctcs_check;
mod ctcs_json;
mod ctcs_serve;
mod ctcs_simulate;
mod decode_ctcs;
mod decode_udp;
mod failure;
mod out;
mod pcap;
mod random;
mod report;
mod torrent;
mod tracker;
mod udp_json;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command, CtcsCommand, DecodeCommand};

fn main() -> ExitCode {
    let cli = match Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return failure::clap_error(&e),
    };
    let result = match cli.command {
        Command::Decode {
            what: DecodeCommand::Udp(a),
        } => decode_udp::run(&a),
        Command::Decode {
            what: DecodeCommand::Ctcs(a),
        } => decode_ctcs::run(&a),
        Command::Announce(a) => announce::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Tracker(a) => tracker::run(&a),
        Command::Ctcs {
            what: CtcsCommand::Serve(a),
        } => ctcs_serve::run(&a),
        Command::Ctcs {
            what: CtcsCommand::Simulate(a),
        } => ctcs_simulate::run(&a),
        Command::Ctcs {
            what: CtcsCommand::Check(a),
        } => ctcs_check::run(&a),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "trackwire", &mut out);
            out::bytes(&out).map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(f) => f.report(),
    }
}

//! The `udp` mode: decodes UDP tracker datagrams given as hex arguments, or capture lines
//! (`t dir src dst len hex`, as in `tests/vectors/udp`) read from standard input.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use serde_json::{json, Value};
use trackwire::udp::{AddressFamily, Request, Response, TailGrammar};

use crate::udp_json::{request_json, response_json, unhex};

struct Flags {
    family: AddressFamily,
    from_client: bool,
    grammar: TailGrammar,
    hex: Vec<String>,
}

fn parse_flags(args: Vec<String>) -> Result<Flags, String> {
    let mut flags = Flags {
        family: AddressFamily::Ipv4,
        from_client: true,
        grammar: TailGrammar::Bep41,
        hex: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ipv6" => flags.family = AddressFamily::Ipv6,
            "--legacy-extensions" => flags.grammar = TailGrammar::Legacy,
            "--from" => match args.next().as_deref() {
                Some("client") => flags.from_client = true,
                Some("tracker") => flags.from_client = false,
                other => return Err(format!("--from takes client or tracker, not {other:?}")),
            },
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ => flags.hex.push(a),
        }
    }
    Ok(flags)
}

/// Decodes one datagram and prints its JSON; returns whether it decoded.
fn show(bytes: &[u8], from_client: bool, family: AddressFamily, grammar: TailGrammar) -> bool {
    let print = |v: Value| {
        // A closed pipe (`| head`) ends the program quietly instead of panicking.
        if writeln!(std::io::stdout().lock(), "{v}").is_err() {
            std::process::exit(0);
        }
    };
    let decoded = if from_client {
        Request::decode_with(bytes, grammar).map(|r| request_json(&r))
    } else {
        Response::decode(bytes, family).map(|r| response_json(&r))
    };
    match decoded {
        Ok(v) => {
            print(v);
            true
        }
        Err(e) => {
            print(json!({"error": e.kind().name(), "offset": e.offset(), "len": bytes.len()}));
            false
        }
    }
}

/// Runs the `udp` mode with the arguments after the mode name.
pub(crate) fn run(args: Vec<String>) -> ExitCode {
    let flags = match parse_flags(args) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("decode udp: {msg}");
            return ExitCode::from(2);
        }
    };
    let mut all_ok = true;
    if !flags.hex.is_empty() {
        for h in &flags.hex {
            let Some(bytes) = unhex(h) else {
                eprintln!("decode udp: not hex: {h}");
                return ExitCode::from(2);
            };
            all_ok &= show(&bytes, flags.from_client, flags.family, flags.grammar);
        }
    } else {
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let Ok(line) = line else {
                eprintln!("decode udp: cannot read standard input");
                return ExitCode::from(2);
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // t dir src dst len hex — the hex is absent for an empty datagram.
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(dir), Some(src), Some(_len)) = (f.get(1), f.get(2), f.get(4)) else {
                eprintln!("decode udp: line {}: not a capture line", n + 1);
                return ExitCode::from(2);
            };
            let from_client = match *dir {
                "C>T" => true,
                "T>C" => false,
                other => {
                    eprintln!("decode udp: line {}: unknown direction {other}", n + 1);
                    return ExitCode::from(2);
                }
            };
            let family = if src.starts_with('[') {
                AddressFamily::Ipv6
            } else {
                AddressFamily::Ipv4
            };
            let Some(bytes) = unhex(f.get(5).copied().unwrap_or("")) else {
                eprintln!("decode udp: line {}: bad hex", n + 1);
                return ExitCode::from(2);
            };
            all_ok &= show(&bytes, from_client, family, flags.grammar);
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

//! `trackwire decode udp`: UDP tracker datagrams from hex arguments, capture lines
//! (`t dir src dst len hex`, as in the project's vectors) on stdin, or a pcap/pcapng file.

use std::io::BufRead;
use std::process::ExitCode;

use serde_json::{json, Value};
use trackwire::udp::{AddressFamily, Request, Response, TailGrammar};
use trackwire::DecodeErrorKind;

use crate::cli::{DecodeUdpArgs, From};
use crate::failure::{Failure, FAILED};
use crate::out::Buffered;
use crate::udp_json::{request_json, response_json, unhex};

/// Who sent a datagram, which decides the decoder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    Client,
    Tracker,
}

/// The library call: one datagram to its JSON, or the decode error's JSON. Returns the
/// JSON and whether it decoded.
pub(crate) fn decode(
    bytes: &[u8],
    sender: Sender,
    family: AddressFamily,
    grammar: TailGrammar,
) -> (Value, bool) {
    let decoded = match sender {
        Sender::Client => Request::decode_with(bytes, grammar).map(|r| request_json(&r)),
        Sender::Tracker => Response::decode(bytes, family).map(|r| response_json(&r)),
    };
    match decoded {
        Ok(v) => (v, true),
        Err(e) => {
            let mut v = json!({"error": e.kind().name(), "offset": e.offset(), "len": bytes.len()});
            // The kind's parameter, so that a conformance suite can compare it too.
            let detail = match e.kind() {
                DecodeErrorKind::Truncated { needed } => Some(("needed", json!(needed))),
                DecodeErrorKind::PartialRecord { stride } => Some(("stride", json!(stride))),
                DecodeErrorKind::UnknownAction(a) => Some(("action", json!(a))),
                _ => None,
            };
            if let (Some((k, d)), Some(m)) = (detail, v.as_object_mut()) {
                m.insert(k.into(), d);
            }
            (v, false)
        }
    }
}

/// Runs `decode udp`.
pub(crate) fn run(a: &DecodeUdpArgs) -> Result<ExitCode, Failure> {
    let grammar = if a.legacy_extensions {
        TailGrammar::Legacy
    } else {
        TailGrammar::Bep41
    };
    let sender = match a.from {
        From::Client => Sender::Client,
        From::Tracker => Sender::Tracker,
    };
    let mut out = Buffered::new();
    let mut undecoded = 0usize;
    if let Some(path) = &a.pcap {
        let r = crate::pcap::decode_file(path, a.port, sender, grammar, &mut out)?;
        undecoded = r.undecoded;
        out.flush();
        if r.skipped > 0 {
            crate::pcap::say_skipped(&r);
        }
        if let Some(e) = r.truncated {
            return Err(Failure::Failed(e));
        }
    } else if !a.hex.is_empty() {
        let family = if a.ipv6 {
            AddressFamily::Ipv6
        } else {
            AddressFamily::Ipv4
        };
        // Every argument is checked before anything is printed: a typo is a usage error.
        let mut datagrams = Vec::with_capacity(a.hex.len());
        for (i, h) in a.hex.iter().enumerate() {
            let bytes = unhex(h).ok_or_else(|| {
                Failure::Usage(format!(
                    "argument {}: not hex (an even number of 0-9a-f digits): {}",
                    i + 1,
                    shorten(h)
                ))
            })?;
            datagrams.push(bytes);
        }
        for bytes in &datagrams {
            let (v, ok) = decode(bytes, sender, family, grammar);
            out.json(&v);
            undecoded += usize::from(!ok);
        }
    } else {
        undecoded = capture_lines(grammar, &mut out)?;
    }
    out.flush();
    if undecoded > 0 {
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!("trackwire: {undecoded} datagram(s) did not decode\n"),
        );
        return Ok(ExitCode::from(FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Decodes capture lines from stdin; returns how many did not decode.
fn capture_lines(grammar: TailGrammar, out: &mut Buffered) -> Result<usize, Failure> {
    let mut undecoded = 0;
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let n = n + 1;
        let line = line.map_err(|e| Failure::Failed(format!("reading stdin, line {n}: {e}")))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // t dir src dst len hex — the hex is absent for an empty datagram.
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(dir), Some(src), Some(_len)) = (f.get(1), f.get(2), f.get(4)) else {
            return Err(Failure::Failed(format!(
                "stdin line {n}: not a capture line (`t dir src dst len hex`)"
            )));
        };
        let sender = match *dir {
            "C>T" => Sender::Client,
            "T>C" => Sender::Tracker,
            other => {
                return Err(Failure::Failed(format!(
                    "stdin line {n}: unknown direction {other} (C>T or T>C)"
                )))
            }
        };
        let family = if src.starts_with('[') {
            AddressFamily::Ipv6
        } else {
            AddressFamily::Ipv4
        };
        let hex = f.get(5).copied().unwrap_or("");
        let Some(bytes) = unhex(hex) else {
            return Err(Failure::Failed(format!(
                "stdin line {n}: not hex: {}",
                shorten(hex)
            )));
        };
        let (v, ok) = decode(&bytes, sender, family, grammar);
        out.json(&v);
        undecoded += usize::from(!ok);
    }
    Ok(undecoded)
}

/// At most 40 characters of a bad argument, so that the error stays one readable line.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

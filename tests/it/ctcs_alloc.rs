//! Framing, decoding and encoding every transcript line allocates nothing.

use crate::common;

use common::{frame_transcript, parse_transcript, transcripts};
use trackwire::ctcs::{ClientMessage, Framer, LineBuffer, ServerMessage, Version};
use trackwire_alloc_count::count as allocations;

#[test]
fn codec_calls_do_not_allocate() {
    // The counter works.
    let (_, n) = allocations(|| std::hint::black_box(vec![1u8; 3]));
    assert!(n >= 1);

    // Everything the codec calls need is set up before counting: the raw byte stream of
    // each connection and direction, and the framed lines with the version in force.
    let files = transcripts();
    let mut streams: Vec<Vec<u8>> = Vec::new();
    let mut lines: Vec<(char, Version, Vec<u8>)> = Vec::new();
    for (_, text) in &files {
        let entries = parse_transcript(text);
        let mut keys: Vec<(char, u32)> = entries.iter().map(|e| (e.dir, e.conn)).collect();
        keys.sort();
        keys.dedup();
        for (d, c) in keys {
            streams.push(
                entries
                    .iter()
                    .filter(|e| e.dir == d && e.conn == c)
                    .flat_map(|e| e.bytes.clone())
                    .collect(),
            );
        }
        for f in frame_transcript(&entries) {
            lines.push((f.dir, f.version, f.line.unwrap()));
        }
    }
    let mut out = vec![0u8; 8192];
    let mut lb = Box::new(LineBuffer::<4295>::new());

    let (framed, allocs) = allocations(|| {
        let mut framed = 0usize;
        for bytes in &streams {
            let mut framer = Framer::default();
            framed += framer.lines(bytes).count();
            for chunk in bytes.chunks(7) {
                lb.push(chunk).unwrap();
                framed += lb.lines().count();
            }
        }
        framed
    });
    assert_eq!(allocs, 0, "framing allocated");
    assert_eq!(framed, 2 * lines.len());

    let (decoded, allocs) = allocations(|| {
        let mut decoded = 0usize;
        for (dir, version, line) in &lines {
            let n = if *dir == 'C' {
                ClientMessage::decode(line, *version)
                    .ok()
                    .map(|m| m.encode(*version, &mut out).unwrap())
            } else {
                ServerMessage::decode(line, *version)
                    .ok()
                    .map(|m| m.encode(*version, &mut out).unwrap())
            };
            if let Some(n) = n {
                assert_eq!(&out[..n - 1], &line[..]);
                decoded += 1;
            }
        }
        decoded
    });
    assert_eq!(allocs, 0, "decoding or encoding allocated");
    // Every line but the one deliberately malformed server line (tests/it/ctcs_vectors.rs).
    assert_eq!(decoded, lines.len() - 1);
}

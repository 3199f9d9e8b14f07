//! CTCS framing over arbitrary streams cut into arbitrary chunks: `Framer::lines` over
//! the whole stream, over a caller buffer that grows chunk by chunk, and `LineBuffer`s
//! (one line of room, and much more) fed chunk by chunk.
//!
//! Asserts: no panic; `consumed` never exceeds the input; all three give the same lines
//! and errors (chunking never changes what is framed); a line is at most the maximum
//! length and holds no NUL, CR or LF; a `LineTooLong` error points at the maximum.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{split_line, Framer, LineBuffer};
use trackwire::DecodeError;

type Lines = Vec<Result<Vec<u8>, DecodeError>>;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Where to cut the stream (taken modulo its length + 1, then sorted).
    cuts: Vec<u16>,
    /// Use the small maximum (16) or the larger one (300).
    small: bool,
    stream: Vec<u8>,
}

fn check_lines(lines: &Lines, max: usize) {
    for l in lines {
        match l {
            Ok(l) => {
                assert!(l.len() <= max);
                assert!(!l.iter().any(|b| matches!(b, 0 | b'\r' | b'\n')));
                assert!(!l.is_empty(), "empty lines are skipped");
            }
            Err(e) => assert!(e.offset() <= max),
        }
    }
}

/// A caller keeping its own receive buffer and a `Framer`, taking lines with
/// `Framer::lines`.
fn frame_incrementally(chunks: &[&[u8]], max: usize) -> Lines {
    let mut f = Framer::new(max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let mut lines = f.lines(&buf);
        out.extend(lines.by_ref().map(|l| l.map(<[u8]>::to_vec)));
        let consumed = lines.consumed();
        assert!(consumed <= buf.len());
        assert_eq!(consumed + lines.rest().len(), buf.len());
        buf.drain(..consumed);
    }
    out
}

/// A driver over a `LineBuffer` of `CAP` bytes: offer what fits, take every line out.
fn feed_line_buffer<const CAP: usize>(chunks: &[&[u8]], max: usize) -> Lines {
    let mut lb = LineBuffer::<CAP>::with_max_len(max);
    let mut out = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        while !input.is_empty() {
            let n = lb.spare().min(input.len());
            assert!(n > 0, "no room after every line was taken out");
            if n < input.len() {
                let full = lb.push(input).expect_err("more than the room");
                assert_eq!(full.spare(), n);
            }
            lb.push(&input[..n]).expect("what fits is taken");
            input = &input[n..];
            out.extend(lb.lines().map(|l| l.map(<[u8]>::to_vec)));
            assert!(lb.len() <= max, "only a partial line is left");
        }
    }
    out
}

fn run<const N: usize, const CAP: usize>(stream: &[u8], chunks: &[&[u8]]) {
    let s = split_line(stream, N);
    assert!(s.consumed <= stream.len());
    let whole = frame_incrementally(&[stream], N);
    check_lines(&whole, N);
    assert_eq!(frame_incrementally(chunks, N), whole, "Framer over chunks");
    assert_eq!(
        feed_line_buffer::<CAP>(chunks, N),
        whole,
        "a tight LineBuffer over chunks"
    );
    assert_eq!(
        feed_line_buffer::<1024>(chunks, N),
        whole,
        "a roomy LineBuffer over chunks"
    );
}

fuzz_target!(|input: Input| {
    let stream = &input.stream[..];
    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        chunks.push(&stream[start..c]);
        start = c;
    }
    if input.small {
        run::<16, 17>(stream, &chunks);
    } else {
        run::<300, 301>(stream, &chunks);
    }
});

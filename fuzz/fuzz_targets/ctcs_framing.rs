//! CTCS framing over arbitrary streams cut into arbitrary chunks: `Framer` over the
//! whole stream, `Framer` over a caller buffer that grows chunk by chunk, and
//! `LineBuffer` fed chunk by chunk.
//!
//! Asserts: no panic; `consumed` never exceeds the input; all three give the same lines
//! and errors (chunking never changes what is framed); a line is at most the maximum
//! length and holds no NUL, CR or LF; a `LineTooLong` error points at the maximum.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use trackwire::ctcs::{split_line, Framer, LineBuffer, Status};
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

/// A caller keeping its own receive buffer and a `Framer`.
fn frame_incrementally(chunks: &[&[u8]], max: usize) -> Lines {
    let mut f = Framer::new(max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let s = f.split(&buf);
            assert!(s.consumed <= buf.len());
            assert!(!s.discard_rest_of_line, "Framer handles discarding itself");
            let consumed = s.consumed;
            let item = match s.status {
                Status::Complete(l) => Some(l.map(<[u8]>::to_vec)),
                Status::Partial => None,
            };
            buf.drain(..consumed);
            match item {
                Some(l) => out.push(l),
                None => break,
            }
        }
    }
    out
}

fn feed_line_buffer<const N: usize>(chunks: &[&[u8]]) -> Lines {
    let mut lb = LineBuffer::<N>::new();
    let mut out = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        while !input.is_empty() {
            let f = lb.feed(input);
            let consumed = f.consumed;
            assert!(consumed <= input.len());
            if let Some(l) = f.line {
                out.push(l.map(<[u8]>::to_vec));
            } else {
                assert!(consumed > 0, "no progress");
            }
            assert!(lb.pending() <= N);
            input = &input[consumed..];
        }
    }
    out
}

fn run<const N: usize>(stream: &[u8], chunks: &[&[u8]]) {
    let s = split_line(stream, N);
    assert!(s.consumed <= stream.len());
    let whole = frame_incrementally(&[stream], N);
    check_lines(&whole, N);
    assert_eq!(frame_incrementally(chunks, N), whole, "Framer over chunks");
    assert_eq!(
        feed_line_buffer::<N>(chunks),
        whole,
        "LineBuffer over chunks"
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
        run::<16>(stream, &chunks);
    } else {
        run::<300>(stream, &chunks);
    }
});

//! Standard output that survives a closed pipe: `trackwire decode … | head -1` must end
//! quietly, not panic as `println!` does on EPIPE.

use std::io::{ErrorKind, Write};

use serde_json::Value;

/// Ends the process quietly if the reader of stdout went away; other errors too, since
/// output is all this process is for: with stdout gone there is nothing left to do.
fn gone(e: &std::io::Error) -> ! {
    if e.kind() != ErrorKind::BrokenPipe {
        let _ = writeln!(std::io::stderr(), "trackwire: writing to stdout: {e}");
        std::process::exit(i32::from(crate::failure::FAILED));
    }
    std::process::exit(0);
}

/// Writes one line and flushes it (servers and long checks: each line as it happens).
pub(crate) fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        gone(&e);
    }
}

/// [`line()`] for a JSON value.
pub(crate) fn json(v: &Value) {
    line(&v.to_string());
}

/// Writes raw bytes and flushes.
pub(crate) fn bytes(b: &[u8]) -> Result<(), crate::failure::Failure> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(b).and_then(|()| out.flush()) {
        gone(&e);
    }
    Ok(())
}

/// Buffered output for bulk decoding: lines go out in blocks, and a closed pipe still
/// ends the process quietly.
pub(crate) struct Buffered {
    w: std::io::BufWriter<std::io::Stdout>,
}

impl Buffered {
    /// A buffer over stdout.
    pub(crate) fn new() -> Self {
        Buffered {
            w: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
        }
    }

    /// Queues one JSON line.
    pub(crate) fn json(&mut self, v: &Value) {
        if let Err(e) = serde_json::to_writer(&mut self.w, v)
            .map_err(std::io::Error::from)
            .and_then(|()| self.w.write_all(b"\n"))
        {
            gone(&e);
        }
    }

    /// Writes out what is queued.
    pub(crate) fn flush(&mut self) {
        if let Err(e) = self.w.flush() {
            gone(&e);
        }
    }
}

impl Drop for Buffered {
    fn drop(&mut self) {
        self.flush();
    }
}

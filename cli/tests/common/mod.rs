//! Shared helpers for the tests of the `trackwire` command. Each test binary uses only
//! some of them.

#![allow(dead_code, unused_imports)]

pub(crate) mod driver;
pub(crate) mod procs;
// The vector reader is the library tests' own, so both read the corpus the same way.
#[path = "../../../tests/common/udp.rs"]
mod udp;

pub(crate) use udp::*;

/// The project's test vectors (`tests/vectors` of the library).
pub(crate) fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

//! Shared helpers for the integration tests. Each test binary uses only some of them.

#![allow(dead_code, unused_imports)]

mod ctcs;
mod udp;

pub(crate) use ctcs::*;
pub(crate) use udp::*;

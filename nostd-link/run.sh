#!/usr/bin/env bash
# Builds the no_std static library (panic = abort, no allocator), links it into a C
# program and runs it. Fails if trackwire's client and server paths need std or alloc.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
out="${TMPDIR:-/tmp}/trackwire-nostd-link-$$"
# --gc-sections drops core's unwinding tables, which nothing reaches under panic = abort.
cc -o "$out" main.c -Wl,--gc-sections target/release/libtrackwire_nostd_link.a
"$out"
rm -f "$out"

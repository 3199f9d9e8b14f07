#!/bin/sh
# Writes NAME.expected.jsonl beside every vector file NAME.txt in udp/ and ctcs/: what
# `trackwire decode udp` / `trackwire decode ctcs` prints for it, one JSON object per
# datagram or CTCS line. UDP files with a `# tail-grammar: legacy` line are decoded with
# --legacy-extensions. cli/tests/vectors.rs checks the files on every `cargo test`.
#
# Usage: tests/vectors/regenerate.sh        (builds and runs the workspace's trackwire)
#        TRACKWIRE=/path/to/trackwire tests/vectors/regenerate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

trackwire() {
    if [ -n "${TRACKWIRE:-}" ]; then
        "$TRACKWIRE" "$@"
    else
        cargo run --quiet --manifest-path "$root/Cargo.toml" -p trackwire-cli -- "$@"
    fi
}

# Exit status 1 means some messages did not decode: their objects say why, and they
# belong in the expected results. Anything else is a real failure.
decode() {
    out=$1
    shift
    status=0
    trackwire decode "$@" > "$out.tmp" 2> /dev/null || status=$?
    if [ "$status" -gt 1 ]; then
        echo "regenerate.sh: trackwire decode $* failed with status $status" >&2
        rm -f "$out.tmp"
        exit 1
    fi
    mv "$out.tmp" "$out"
}

for f in "$here"/udp/*.txt; do
    if grep -qx '# tail-grammar: legacy' "$f"; then
        decode "${f%.txt}.expected.jsonl" udp --legacy-extensions < "$f"
    else
        decode "${f%.txt}.expected.jsonl" udp < "$f"
    fi
done
for f in "$here"/ctcs/*.txt; do
    decode "${f%.txt}.expected.jsonl" ctcs < "$f"
done
echo "regenerate.sh: wrote $(ls "$here"/udp/*.expected.jsonl "$here"/ctcs/*.expected.jsonl | wc -l) expected-results files"

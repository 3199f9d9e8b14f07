#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for SECONDS each and fails on any
# crash, leak or timeout.
#
#   scripts/fuzz.sh SECONDS [TARGET...]
#
# Uses nightly with AddressSanitizer when a nightly toolchain is installed, otherwise
# stable with `--sanitizer none`. Each target starts from its committed seeds
# (fuzz/seeds/T) and its committed regressions (fuzz/regressions/T, inputs that once
# failed); what it discovers goes to fuzz/corpus/T, which git ignores. A failing input
# is saved under fuzz/artifacts/T/. Prints executions and seconds per target at the end.
set -euo pipefail
secs="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
cd "$(dirname "$0")/.."

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 2; }

if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=(+nightly); sanitizer=(--sanitizer address); mode="nightly, AddressSanitizer"
else
  toolchain=(); sanitizer=(--sanitizer none); mode="stable, no sanitizer"
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list --fuzz-dir fuzz)
fi

echo "fuzz: ${#targets[@]} target(s), ${secs} s each ($mode)"
cargo "${toolchain[@]}" fuzz build -O "${sanitizer[@]}" --fuzz-dir fuzz

logs="fuzz/logs"
mkdir -p "$logs"
failed=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  dirs=("fuzz/corpus/$t")
  [ -d "fuzz/seeds/$t" ] && dirs+=("fuzz/seeds/$t")
  [ -d "fuzz/regressions/$t" ] && dirs+=("fuzz/regressions/$t")
  log="$logs/$t.log"
  echo "==> $t"
  start=$(date +%s)
  if cargo "${toolchain[@]}" fuzz run -O "${sanitizer[@]}" --fuzz-dir fuzz "$t" "${dirs[@]}" -- \
      -max_total_time="$secs" -print_final_stats=1 -timeout=10 >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
    tail -n 60 "$log" >&2
  fi
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  summary+=("$(printf '%-26s %-6s %12s execs %6s s' "$t" "$status" "${execs:-?}" "$took")")
done

echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/, logs in $logs/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} target(s) ran ${secs} s without a failure"

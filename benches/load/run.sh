#!/usr/bin/env bash
# Side-by-side load benchmark (issue 15, item 3): the trackwire tracker, aquatic_udp 0.9 and
# Debian's opentracker, one after the other, each pinned to one CPU while
# aquatic_udp_load_test 0.9 runs on another, with one load configuration for all three.
# See README.md beside this script for what it measures and how to read it.
#
#   benches/load/run.sh
#   LOAD_SECONDS=5 benches/load/run.sh                    # CI's smoke run
#   TRACKWIRE_TRACKER="target/release/examples/tracker" TRACKWIRE_ARGS="" benches/load/run.sh
#
# Environment (defaults in brackets):
#   TRACKWIRE_TRACKER  command that starts trackwire's tracker; run.sh appends
#                      `--bind 127.0.0.1:PORT` and TRACKWIRE_ARGS [target/release/trackwire tracker]
#   TRACKWIRE_ARGS     extra flags for it [--workers 1]
#   LOAD_SECONDS       measured seconds per tracker, a multiple of 5 [30]
#   WARMUP_SECONDS     warm-up seconds before that, a multiple of 5 [LOAD_SECONDS]
#   TRACKERS           which trackers, in order [trackwire aquatic opentracker]
#   TRACKER_CPU / LOAD_CPU   CPUs for the tracker and the load test [0 / 1]
#   BENCH_NICE         if set (e.g. -20, as root), the nice value of the tracker and the load
#                      test, ahead of other work on a shared machine [unset]
#   PERF_SECONDS       if > 0, `perf record -g` the trackwire tracker for that long at the
#                      start of its measured window and save `perf report` [0]
#   RESULTS_DIR        where load-test output, configs and the table go [benches/load/results/DATE]
#   LOAD_TOOLS         cargo install root for the aquatic binaries [benches/load/.tools]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LOAD_SECONDS=${LOAD_SECONDS:-30}
WARMUP_SECONDS=${WARMUP_SECONDS:-$LOAD_SECONDS}
TRACKWIRE_TRACKER=${TRACKWIRE_TRACKER:-"$ROOT/target/release/trackwire tracker"}
TRACKWIRE_ARGS=${TRACKWIRE_ARGS-"--workers 1"}
TRACKERS=${TRACKERS:-"trackwire aquatic opentracker"}
TRACKER_CPU=${TRACKER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PERF_SECONDS=${PERF_SECONDS:-0}
RESULTS_DIR=${RESULTS_DIR:-"$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"}
LOAD_TOOLS=${LOAD_TOOLS:-"$HERE/.tools"}

# The load mix. Announce to scrape is aquatic_bencher's UDP setting (100:1, 30 peers
# wanted, aquatic's max_response_peers 30). aquatic_bencher sends no connects; one
# weight of connect keeps the load test's connection ids fresh (about 1 % of requests),
# since trackers that expire ids after two minutes would otherwise answer errors only.
WEIGHT_CONNECT=${WEIGHT_CONNECT:-1}
WEIGHT_ANNOUNCE=${WEIGHT_ANNOUNCE:-100}
WEIGHT_SCRAPE=${WEIGHT_SCRAPE:-1}
PEERS_WANTED=30

die() { echo "run.sh: $*" >&2; exit 1; }

for n in "$LOAD_SECONDS" "$WARMUP_SECONDS"; do
    [[ "$n" =~ ^[0-9]+$ ]] && (( n > 0 && n % 5 == 0 )) \
        || die "LOAD_SECONDS and WARMUP_SECONDS must be positive multiples of 5 (the load test reports every 5 s), got $n"
done
[ "$(nproc)" -gt "$(( TRACKER_CPU > LOAD_CPU ? TRACKER_CPU : LOAD_CPU ))" ] \
    || die "needs CPUs $TRACKER_CPU and $LOAD_CPU; this machine has $(nproc)"

# ---------------------------------------------------------------- tools
source "$HERE/lib.sh"
install_tools

mkdir -p "$RESULTS_DIR"
WORK=$(mktemp -d /tmp/trackwire-load.XXXXXX)
chmod 755 "$WORK"   # opentracker drops to nobody inside it
trap 'cleanup_all; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- one run
declare -A RPS CPU RSS WAIT LOADCPU
CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() {
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    local stat
    stat=$(cat "/proc/$1/stat") || return 1
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}

# wait_ns PID: nanoseconds its threads spent runnable but waiting for a CPU
# (/proc/PID/task/*/schedstat, second field): on a shared machine, time stolen by others.
wait_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f", s }'
}

run_one() {
    local name=$1 port addr
    port=$(free_port udp)
    addr="127.0.0.1:$port"
    start_tracker "$name" "$addr" "$WORK/$name" "$RESULTS_DIR/$name.tracker.log"
    local tpid=$TRACKER_PID
    wait_ready "$name" "$addr" "$tpid"

    local total=$(( WARMUP_SECONDS + LOAD_SECONDS ))
    local cfg="$RESULTS_DIR/load-test.toml" out="$RESULTS_DIR/$name.load-test.out" err="$RESULTS_DIR/$name.load-test.err"
    write_load_test_config "$cfg" "$addr" "$total" "$LOAD_SECONDS"
    "${PIN_LOAD[@]}" "$LOAD_TOOLS/bin/aquatic_udp_load_test" -c "$cfg" >"$out" 2>"$err" &
    local lpid=$!
    track_pid "$lpid"

    # The load test prints "Responses in:" every 5 s from the moment its workers start;
    # the tracker's CPU is sampled on the reports that open and close the measured window.
    local want_start=$(( WARMUP_SECONDS / 5 )) want_end=$(( total / 5 ))
    local t0 c0 t1 c1 w0 w1 l0="" l1="" tl1="" seen=0 deadline=$(( $(date +%s) + total + 120 )) perf_pid=""
    while :; do
        seen=$(grep -c '^Responses in:' "$out" || true)
        if [ -z "${c0:-}" ] && [ "$seen" -ge "$want_start" ]; then
            c0=$(cpu_ticks "$tpid") || die "$name died during the warm-up (see $RESULTS_DIR/$name.tracker.log)"
            t0=$(date +%s.%N)
            w0=$(wait_ns "$tpid"); l0=$(cpu_ticks "$lpid" || true)
            if [ "$name" = trackwire ] && [ "$PERF_SECONDS" -gt 0 ]; then
                perf record -g -p "$tpid" -o "$RESULTS_DIR/perf.data" -- sleep "$PERF_SECONDS" \
                    >"$RESULTS_DIR/perf-record.log" 2>&1 &
                perf_pid=$!
                track_pid "$perf_pid"
            fi
        fi
        # The load test exits right after its last report: read its own CPU one report early.
        if [ -n "${c0:-}" ] && [ -z "${l1:-}" ] && [ "$seen" -ge $(( want_end - 1 )) ] && [ "$seen" -gt "$want_start" ]; then
            l1=$(cpu_ticks "$lpid" || true); tl1=$(date +%s.%N)
        fi
        if [ -n "${c0:-}" ] && [ "$seen" -ge "$want_end" ]; then
            c1=$(cpu_ticks "$tpid") || die "$name died during the measured window"
            t1=$(date +%s.%N)
            w1=$(wait_ns "$tpid")
            break
        fi
        kill -0 "$tpid" 2>/dev/null || die "$name exited during the run (see $RESULTS_DIR/$name.tracker.log)"
        kill -0 "$lpid" 2>/dev/null || { sleep 0.2; seen=$(grep -c '^Responses in:' "$out" || true);
            [ "$seen" -ge "$want_end" ] && [ -n "${c0:-}" ] && { c1=$(cpu_ticks "$tpid"); t1=$(date +%s.%N);
                w1=$(wait_ns "$tpid"); break; }
            die "the load test exited early against $name (see $err)"; }
        [ "$(date +%s)" -le "$deadline" ] || die "the load test against $name did not finish in time"
        sleep 0.05
    done
    RSS[$name]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$tpid/status")
    bounded_wait "$lpid" 30 || die "the load test did not exit after its report"
    if [ -n "$perf_pid" ]; then
        bounded_wait "$perf_pid" $(( PERF_SECONDS + 30 )) || die "perf record did not finish"
        # Flat (self time per symbol), by shared object, and the call graph with callers.
        perf report --stdio --no-children -g none --percent-limit 0.5 -i "$RESULTS_DIR/perf.data" 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -60 >"$RESULTS_DIR/perf-report.txt" || true
        perf report --stdio --no-children -g none --sort dso -i "$RESULTS_DIR/perf.data" 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -15 >"$RESULTS_DIR/perf-dso.txt" || true
        perf report --stdio --children --percent-limit 2 -i "$RESULTS_DIR/perf.data" 2>/dev/null \
            | head -200 >"$RESULTS_DIR/perf-callgraph.txt" || true
    fi
    stop_pid "$tpid"

    local rps
    rps=$(awk -F': ' '/^Average responses per second:/ { gsub(/[^0-9.]/, "", $2); print $2 }' "$out" | tail -1)
    [ -n "$rps" ] || die "no 'Average responses per second' in the load test's report against $name (see $out)"
    awk -v r="$rps" 'BEGIN { exit !(r > 0) }' || die "$name answered nothing (0 responses/s; see $out and $err)"
    local invalid
    invalid=$(grep -c 'Received invalid response' "$err" || true)
    [ "$invalid" -eq 0 ] || echo "run.sh: warning: the load test could not parse $invalid replies from $name (see $err)" >&2
    RPS[$name]=$rps
    # CPU use over the measured window, as a fraction of one CPU.
    CPU[$name]=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / hz / (e - s) }')
    WAIT[$name]=$(awk -v a="$w0" -v b="$w1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 / (e - s) }')
    # n/a when the measured window holds a single report (LOAD_SECONDS=5).
    LOADCPU[$name]=nan
    if [ -n "$l0" ] && [ -n "$l1" ]; then
        LOADCPU[$name]=$(awk -v a="$l0" -v b="$l1" -v s="$t0" -v e="$tl1" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / hz / (e - s) }')
    fi
    printf '%s: %.0f responses/s, CPU %.0f %%, peak RSS %d KiB\n' "$name" "$rps" "$(awk -v c="${CPU[$name]}" 'BEGIN{print c*100}')" "${RSS[$name]}" >&2
}

for t in $TRACKERS; do
    run_one "$t"
done

# ---------------------------------------------------------------- report
{
    echo "# $(date -u +%FT%TZ) $(lscpu | awk -F': *' '/^Model name/ {print $2; exit}'), $(nproc) CPUs; tracker on CPU $TRACKER_CPU, load test on CPU $LOAD_CPU"
    echo "# warm-up ${WARMUP_SECONDS} s, measured ${LOAD_SECONDS} s; weights connect:announce:scrape = $WEIGHT_CONNECT:$WEIGHT_ANNOUNCE:$WEIGHT_SCRAPE, $PEERS_WANTED peers wanted"
    # "CPU wait %": the tracker runnable but not running (other work on its CPU);
    # "load CPU %": the load generator's own CPU use, 100 when it is the limit.
    printf '%-12s %12s %13s %7s %16s %11s %11s\n' tracker 'responses/s' 'peak RSS MiB' 'CPU %' 'responses/CPU-s' 'CPU wait %' 'load CPU %'
    for t in $TRACKERS; do
        awk -v t="$t" -v r="${RPS[$t]}" -v k="${RSS[$t]}" -v c="${CPU[$t]}" -v w="${WAIT[$t]}" -v l="${LOADCPU[$t]}" \
            'BEGIN { printf "%-12s %12.0f %13.1f %7.1f %16.0f %11.1f %11s\n", t, r, k / 1024, c * 100, (c > 0 ? r / c : 0), w * 100, (l == "nan" ? "n/a" : sprintf("%.1f", l * 100)) }'
    done
    ratio() { # ratio KIND A B: A's figure over B's, or "n/a" when either was not run
        local a=$2 b=$3
        if [ -z "${RPS[$a]:-}" ] || [ -z "${RPS[$b]:-}" ]; then echo n/a; return; fi
        case $1 in
            rps) awk -v x="${RPS[$a]}" -v y="${RPS[$b]}" 'BEGIN { printf "%.2f", x / y }' ;;
            cpu) awk -v x="${RPS[$a]}" -v cx="${CPU[$a]}" -v y="${RPS[$b]}" -v cy="${CPU[$b]}" \
                     'BEGIN { if (cx > 0 && cy > 0) printf "%.2f", (x / cx) / (y / cy); else printf "n/a" }' ;;
            rss) awk -v x="${RSS[$a]}" -v y="${RSS[$b]}" 'BEGIN { printf "%.2f", x / y }' ;;
        esac
    }
    echo "ratio tracker-1core trackwire/aquatic=$(ratio rps trackwire aquatic) trackwire/opentracker=$(ratio rps trackwire opentracker)"
    echo "ratio tracker-per-cpu trackwire/aquatic=$(ratio cpu trackwire aquatic) trackwire/opentracker=$(ratio cpu trackwire opentracker)"
    echo "ratio tracker-rss trackwire/aquatic=$(ratio rss trackwire aquatic)"
} | tee "$RESULTS_DIR/table.txt"
echo "run.sh: results in $RESULTS_DIR" >&2

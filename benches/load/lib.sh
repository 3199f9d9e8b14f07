# Shared by run.sh and soak.sh (sourced, not run): tools, processes, ports and the three
# trackers' start-up. Expects HERE, ROOT, WORK (once started), LOAD_TOOLS, TRACKER_CPU,
# LOAD_CPU, TRACKWIRE_TRACKER and TRACKWIRE_ARGS from the caller.

HELPERS="$HERE/target/release"
AQUATIC_VERSION=0.9.0

# install_tools: the aquatic binaries (cargo install into LOAD_TOOLS, skipped when there),
# Debian's opentracker, and this crate's helpers (load-hashes, load-probe, load-flood).
install_tools() {
    local crate features
    for crate in aquatic_udp_load_test aquatic_udp; do
        # aquatic_udp's default `prometheus` feature pulls metrics 0.22, which current rustc
        # rejects (E0521); the benchmark exports no metrics, so build without it.
        features=()
        [ "$crate" = aquatic_udp ] && features=(--no-default-features --features mimalloc)
        if [ -x "$LOAD_TOOLS/bin/$crate" ] \
            && grep -q "^\"$crate $AQUATIC_VERSION " "$LOAD_TOOLS/.crates.toml" 2>/dev/null; then
            continue
        fi
        echo "installing $crate $AQUATIC_VERSION into $LOAD_TOOLS" >&2
        # One target dir for both, so that their shared dependencies build once.
        CARGO_TARGET_DIR="$LOAD_TOOLS/target" timeout 3600 \
            cargo install --locked --quiet --version "$AQUATIC_VERSION" --root "$LOAD_TOOLS" "${features[@]}" "$crate" \
            || die "cargo install $crate $AQUATIC_VERSION failed"
    done
    if ! command -v opentracker >/dev/null; then
        echo "installing Debian's opentracker" >&2
        if ! DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q opentracker >/dev/null; then
            timeout 600 apt-get update -q >/dev/null || true
            DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q opentracker >/dev/null \
                || die "apt-get install opentracker failed"
        fi
    fi
    command -v taskset >/dev/null || die "taskset (util-linux) is missing"
    command -v python3 >/dev/null || die "python3 is missing (used to pick free ports)"
    timeout 900 cargo build --release --quiet --manifest-path "$HERE/Cargo.toml" \
        || die "building the benches/load helpers failed"
}

# How the tracker and the load generator are started: pinned, and with BENCH_NICE (e.g.
# -20) ahead of whatever else runs on a shared machine.
PIN_TRACKER=(taskset -c "$TRACKER_CPU")
PIN_LOAD=(taskset -c "$LOAD_CPU")
if [ -n "${BENCH_NICE:-}" ]; then
    PIN_TRACKER=(nice -n "$BENCH_NICE" "${PIN_TRACKER[@]}")
    PIN_LOAD=(nice -n "$BENCH_NICE" "${PIN_LOAD[@]}")
fi

# Every process started here, so that cleanup_all ends exactly those.
STARTED_PIDS=()
track_pid() { STARTED_PIDS+=("$1"); }

# bounded_wait PID SECONDS: wait for a child to end, at most SECONDS; 1 if it did not.
bounded_wait() {
    local pid=$1 end=$(( $(date +%s) + $2 ))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s.
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! bounded_wait "$pid" 5; then
        kill -KILL "$pid" 2>/dev/null || true
        bounded_wait "$pid" 5 || echo "warning: process $pid survived SIGKILL" >&2
    fi
}

cleanup_all() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        stop_pid "$pid"
    done
    STARTED_PIDS=()
}

# free_port udp|tcp: a port the kernel just handed out on 127.0.0.1 (and released).
free_port() {
    python3 - "$1" <<'EOF'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

# The first, a middle and the last of the load test's hashes: the start-up check announces
# them, which for opentracker also checks the generated whitelist against the load test.
probe_hashes() {
    "$HELPERS/load-hashes" | awk 'NR == 1 || NR == 500000 || NR == 1000000'
}

# write_aquatic_config FILE ADDR: aquatic_udp's default configuration with one socket
# worker on ADDR and aquatic_bencher's 30-peer cap.
write_aquatic_config() {
    "$LOAD_TOOLS/bin/aquatic_udp" -p >"$1.default" || die "aquatic_udp -p failed"
    python3 - "$1.default" "$1" "$2" <<'EOF' || die "could not write aquatic's configuration"
import re, sys
src, dst, addr = sys.argv[1:]
text = open(src).read()
section, out, seen = "", [], set()
for line in text.splitlines():
    m = re.match(r"^\[(.*)\]\s*$", line)
    if m:
        section = m.group(1)
    key = line.split("=")[0].strip()
    want = {("", "socket_workers"): "1",
            ("network", "address"): f'"{addr}"',
            ("network", "address_ipv4"): f'"{addr}"',
            ("network", "use_ipv6"): "false",
            ("protocol", "max_response_peers"): "30"}.get((section, key))
    if want is not None and "=" in line:
        line = f"{key} = {want}"
        seen.add(key)
    out.append(line)
if "socket_workers" not in seen or not seen & {"address", "address_ipv4"}:
    sys.exit(f"aquatic_udp -p printed no socket_workers or address: {sorted(seen)}")
open(dst, "w").write("\n".join(out) + "\n")
EOF
}

# write_load_test_config FILE ADDR DURATION SUMMARIZE_LAST
write_load_test_config() {
    "$LOAD_TOOLS/bin/aquatic_udp_load_test" -p >"$1.default" || die "aquatic_udp_load_test -p failed"
    python3 - "$1.default" "$1" "$2" "$3" "$4" "$WEIGHT_CONNECT" "$WEIGHT_ANNOUNCE" "$WEIGHT_SCRAPE" "$PEERS_WANTED" <<'EOF' \
        || die "could not write the load test's configuration"
import re, sys
src, dst, addr, duration, last, wc, wa, ws, peers = sys.argv[1:]
want = {("", "server_address"): f'"{addr}"', ("", "workers"): "1",
        ("", "duration"): duration, ("", "summarize_last"): last,
        # Per-hash histograms cost the one load-generating core time it needs for requests.
        ("", "extra_statistics"): "false",
        ("requests", "weight_connect"): wc, ("requests", "weight_announce"): wa,
        ("requests", "weight_scrape"): ws, ("requests", "announce_peers_wanted"): peers}
section, out, seen = "", [], set()
for line in open(src).read().splitlines():
    m = re.match(r"^\[(.*)\]\s*$", line)
    if m:
        section = m.group(1)
    key = line.split("=")[0].strip()
    if (section, key) in want and "=" in line:
        line = f"{key} = {want[(section, key)]}"
        seen.add((section, key))
    out.append(line)
missing = set(want) - seen
if missing:
    sys.exit(f"aquatic_udp_load_test -p lacks {sorted(missing)}")
open(dst, "w").write("\n".join(out) + "\n")
EOF
}

# start_tracker NAME ADDR DIR LOG [EXTRA_ARGS...]: starts trackwire, aquatic or opentracker
# on ADDR, pinned to TRACKER_CPU; sets TRACKER_PID. For opentracker DIR gets the
# configuration and the whitelist (WHITELIST_FILE if set, else the load test's hashes).
start_tracker() {
    local name=$1 addr=$2 dir=$3 log=$4
    shift 4
    mkdir -p "$dir"
    case $name in
        trackwire)
            # Word-split on purpose: the command may carry a subcommand ("trackwire tracker").
            # shellcheck disable=SC2086
            "${PIN_TRACKER[@]}" $TRACKWIRE_TRACKER --bind "$addr" $TRACKWIRE_ARGS "$@" \
                >"$log" 2>&1 &
            ;;
        aquatic)
            write_aquatic_config "$dir/aquatic.toml" "$addr"
            cp "$dir/aquatic.toml" "$RESULTS_DIR/aquatic.toml" 2>/dev/null || true
            "${PIN_TRACKER[@]}" "$LOAD_TOOLS/bin/aquatic_udp" -c "$dir/aquatic.toml" >"$log" 2>&1 &
            ;;
        opentracker)
            chmod 755 "$dir"
            if [ -n "${WHITELIST_FILE:-}" ]; then
                cp "$WHITELIST_FILE" "$dir/whitelist.txt"
            else
                "$HELPERS/load-hashes" >"$dir/whitelist.txt" || die "load-hashes failed"
            fi
            chmod 644 "$dir/whitelist.txt"
            # One UDP worker thread, as aquatic_bencher's single-core opentracker runs; the
            # TCP listener is required by nothing here but keeps it off its default 6969.
            cat >"$dir/opentracker.conf" <<EOF
listen.udp.workers 1
listen.udp $addr
listen.tcp 127.0.0.1:$(free_port tcp)
tracker.rootdir $dir
tracker.user nobody
access.whitelist whitelist.txt
EOF
            cp "$dir/opentracker.conf" "$RESULTS_DIR/opentracker.conf" 2>/dev/null || true
            (cd "$dir" && exec "${PIN_TRACKER[@]}" opentracker -f "$dir/opentracker.conf") >"$log" 2>&1 &
            ;;
        *) die "unknown tracker $name (trackwire, aquatic or opentracker)" ;;
    esac
    TRACKER_PID=$!
    track_pid "$TRACKER_PID"
}

# wait_ready NAME ADDR PID: until the tracker answers full announces for the load test's
# hashes (at most 120 s: opentracker reads a million-line whitelist first). For opentracker
# a hash outside the whitelist must be refused, which shows the whitelist is in force and
# that the answered hashes were answered because the generated list matched.
wait_ready() {
    local name=$1 addr=$2 pid=$3 hash rc
    for hash in $(probe_hashes); do
        rc=0
        timeout 150 "$HELPERS/load-probe" --target "$addr" --hash "$hash" --until-answered 120 || rc=$?
        kill -0 "$pid" 2>/dev/null || die "$name exited at start-up (see its log in $RESULTS_DIR)"
        case $rc in
            0) ;;
            2) die "$name refused the load test's hash $hash: the generated whitelist does not match aquatic_udp_load_test's" ;;
            *) die "$name did not answer an announce on $addr within 120 s" ;;
        esac
    done
    if [ "$name" = opentracker ]; then
        rc=0
        timeout 30 "$HELPERS/load-probe" --target "$addr" --hash cccccccccccccccccccccccccccccccccccccccc \
            --until-answered 3 2>/dev/null || rc=$?
        [ "$rc" -eq 2 ] || die "opentracker did not refuse a hash outside its whitelist (probe exit $rc)"
    fi
}

#!/usr/bin/env bash
# Side-by-side throughput: percore vs a plain hyper server, same core, same load.
#
# Each server in turn is pinned to SERVER_CPU and driven by wrk pinned to
# CLIENT_CPU, alternating percore/hyper for ROUNDS rounds so slow drift on the
# machine (other builds, thermal) hits both sides alike. Prints every round and
# the median ratio percore/hyper. Loopback only (127.0.0.1), time-bounded.
#
# Usage: bench/side_by_side.sh
# Environment (defaults in brackets):
#   ROUNDS [3]          rounds; each runs percore once and hyper once
#   DURATION [10s]      wrk -d per measured run
#   CONNECTIONS [50]    wrk -c (keep-alive connections)
#   THREADS [1]         wrk -t
#   WARMUP [2s]         unmeasured wrk run before each measured one
#   SERVER_CPU [0]      CPU both servers are pinned to (taskset -c)
#   CLIENT_CPU [1]      CPU(s) wrk is pinned to, a taskset list such as 1-3
#                       (give wrk as many THREADS as CPUs)
#   PC_PORT [0], HYPER_PORT [0]   0 = a free port picked at each start
#   SKIP_BUILD [0]      1 = use the existing release binaries
#   CALIBRATE [0]       1 = run hyper_ref on both sides (A/A test): the ratio
#                       then shows this machine's noise, expected ~1.00
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-2s}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PC_PORT=${PC_PORT:-0}
HYPER_PORT=${HYPER_PORT:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
CALIBRATE=${CALIBRATE:-0}
URL_PATH=/healthz

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/side_by_side.XXXXXX")
SERVER_PID=""
SERVER_PORT=""
STARTS=0

die() { echo "side_by_side: $*" >&2; exit 1; }

cleanup() {
    # stop_server is defined below; an early exit happens before it exists.
    if declare -F stop_server >/dev/null; then stop_server; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "10s" / "1m" / "500ms" -> whole seconds (rounded up), for timeouts.
secs() {
    local v=$1
    case $v in
        *ms) echo $(( (${v%ms} + 999) / 1000 )) ;;
        *s) echo "${v%s}" ;;
        *m) echo $(( ${v%m} * 60 )) ;;
        *h) echo $(( ${v%h} * 3600 )) ;;
        *) echo "$v" ;;
    esac
}

# --- Preconditions -----------------------------------------------------------
for v in ROUNDS CONNECTIONS THREADS SERVER_CPU PC_PORT HYPER_PORT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
[[ $CLIENT_CPU =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] \
    || die "CLIENT_CPU must be a CPU list like 1 or 1-3,5, got '$CLIENT_CPU'"
[[ $(secs "$DURATION") =~ ^[0-9]+$ && $(secs "$WARMUP") =~ ^[0-9]+$ ]] \
    || die "DURATION and WARMUP take wrk's forms: 10s, 1m, 500ms"
(( ROUNDS >= 1 )) || die "ROUNDS must be at least 1"
for part in ${CLIENT_CPU//,/ }; do
    lo=${part%-*} hi=${part#*-}
    (( SERVER_CPU < lo || SERVER_CPU > hi )) || die "CLIENT_CPU must not include SERVER_CPU"
done
command -v taskset >/dev/null || die "taskset not found (package util-linux)"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot run on CPU $SERVER_CPU"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot run on CPU $CLIENT_CPU"

if ! command -v wrk >/dev/null; then
    echo "wrk not found; installing it with apt-get"
    if [[ $(id -u) == 0 ]]; then SUDO=""; else SUDO="sudo"; fi
    command -v apt-get >/dev/null || die "wrk missing and no apt-get: install wrk by hand"
    $SUDO apt-get update -qq || die "apt-get update failed"
    $SUDO apt-get install -y -qq wrk >/dev/null || die "apt-get install wrk failed"
fi

if [[ $SKIP_BUILD != 1 ]]; then
    echo "building: cargo build --release -p percore -p percore-bench"
    (cd "$ROOT" && cargo build --release -p percore -p percore-bench)
fi
[[ -x $BIN/hyper_ref ]] || die "$BIN/hyper_ref not built"
[[ $CALIBRATE == 1 || -x $BIN/percore ]] || die "$BIN/percore not built"

# --- Servers -------------------------------------------------------------------
# start_server NAME: starts it pinned to SERVER_CPU, waits for its
# "listening on ADDR:PORT" line (10s at most) and sets SERVER_PORT from it.
# Each start logs to a new file, so a line left by the previous instance
# cannot be mistaken for this one's.
start_server() {
    STARTS=$((STARTS + 1))
    local name=$1 log="$WORK/$1.$STARTS.log"
    case $name in
        percore)
            taskset -c "$SERVER_CPU" "$BIN/percore" serve --cores 1 \
                --listen "127.0.0.1:$PC_PORT" --data-dir "$(mktemp -d "$WORK/data.XXXX")" \
                >"$log" 2>&1 &
            ;;
        hyper-A)
            taskset -c "$SERVER_CPU" "$BIN/hyper_ref" --listen "127.0.0.1:$PC_PORT" >"$log" 2>&1 &
            ;;
        hyper)
            taskset -c "$SERVER_CPU" "$BIN/hyper_ref" --listen "127.0.0.1:$HYPER_PORT" >"$log" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    local line
    for _ in $(seq 100); do
        line=$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$log" 2>/dev/null || true)
        if [[ -n $line ]]; then
            SERVER_PORT=${line##*:}
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "$name exited at start"; }
        sleep 0.1
    done
    cat "$log" >&2
    die "$name did not print 'listening on' within 10s"
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# One raw request over bash's /dev/tcp, so the labels show what each side
# really sends back (no curl needed).
show_response() {
    local port=$1 resp line
    resp=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'
        printf "GET '"$URL_PATH"' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3
        cat <&3' 2>/dev/null | tr -d '\r') || true
    [[ -n $resp ]] || die "no response on 127.0.0.1:$port$URL_PATH"
    while IFS= read -r line; do echo "      | $line"; done <<<"$resp"
    tail -n1 <<<"$resp" | grep -qx '{"status":"ok"}' \
        || echo "      !! body is not {\"status\":\"ok\"}: the two sides do different work"
}

# run_wrk NAME: against SERVER_PORT, warm-up, then the measured run; prints
# "RATE|P50|P99|CPU|IRQ|OTHERS|NOTE", shares of SERVER_CPU during the run: CPU
# the server's own threads, IRQ interrupts and softirqs, OTHERS other tasks.
run_wrk() {
    local port=$SERVER_PORT out limit
    out="$WORK/wrk.out"
    limit=$(( $(secs "$DURATION") + 30 ))
    if [[ $(secs "$WARMUP") -gt 0 ]]; then
        timeout $(( $(secs "$WARMUP") + 30 )) taskset -c "$CLIENT_CPU" \
            wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "http://127.0.0.1:$port$URL_PATH" >/dev/null
    fi
    local t0 c0 t1 c1 cpu b0 i0 n0 b1 i1 n1 irq others
    t0=$(date +%s.%N)
    c0=$(cpu_ticks)
    read -r b0 i0 n0 <<<"$(cpu_line)"
    timeout "$limit" taskset -c "$CLIENT_CPU" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        "http://127.0.0.1:$port$URL_PATH" >"$out" || die "wrk failed or overran ${limit}s"
    c1=$(cpu_ticks)
    read -r b1 i1 n1 <<<"$(cpu_line)"
    t1=$(date +%s.%N)
    cpu=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v t="$t1" -v s="$t0" \
        'BEGIN { printf "%.0f", 100 * c / hz / (t - s) }')
    # Per-process and per-CPU times are sampled differently, so the
    # difference is approximate (a few %); clamp it at 0.
    others=$(awk -v b="$((b1 - b0))" -v n="$((n1 - n0))" -v c="$((c1 - c0))" \
        'BEGIN { o = n > 0 ? 100 * (b - c) / n : 0; printf "%.0f", o < 0 ? 0 : o }')
    irq=$(awk -v i="$((i1 - i0))" -v n="$((n1 - n0))" 'BEGIN { printf "%.0f", (n > 0 ? 100 * i / n : 0) }')
    cp "$out" "$WORK/last-$1.wrk"
    local rate p50 p99 note=""
    rate=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    # A rate that includes errors or non-200s is not comparable: flag it.
    if grep -q "Non-2xx" "$out"; then note+=" $(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$out")"; fi
    if grep -q "Socket errors" "$out"; then note+=" $(grep -o 'Socket errors:.*' "$out")"; fi
    [[ -n $rate ]] || { cat "$out" >&2; die "could not parse wrk output"; }
    # A server that was not kept busy measured the client or the neighbours.
    if (( others >= 10 )); then
        note+=" CPU $SERVER_CPU shared: other work took ${others}%"
    elif (( cpu < 90 )); then
        note+=" server not saturated: wrk-bound?"
    fi
    echo "$rate|${p50:-?}|${p99:-?}|$cpu|$irq|$others|${note# }"
}

# CPU time (user + system, all threads) the server has used, in clock ticks.
cpu_ticks() {
    sed 's/.*) //' "/proc/$SERVER_PID/stat" | awk '{print $12 + $13}'
}

# "TASKS IRQ TOTAL" ticks of SERVER_CPU from /proc/stat: time running tasks
# (user, nice, system, plus steal by the hypervisor), in interrupts and
# softirqs (where loopback packet processing is partly charged), and in all.
cpu_line() {
    awk -v c="cpu$SERVER_CPU" '$1 == c {
        t = $2 + $3 + $4 + $9; i = $7 + $8; print t, i, t + i + $5 + $6 }' /proc/stat
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1}
        END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.4f\n", m }'
}

# --- Labels ----------------------------------------------------------------------
if [[ $CALIBRATE == 1 ]]; then A=hyper-A; else A=percore; fi
B=hyper
echo
echo "== side by side: $A vs $B =="
echo "host    : $(nproc) CPUs usable, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
echo "load    : loadavg $(cut -d' ' -f1-3 /proc/loadavg) before start (other work on the host skews both sides)"
if [[ $A == percore ]]; then
    echo "percore : $BIN/percore serve --cores 1, pinned to CPU $SERVER_CPU; its own HTTP/1.1"
    echo "          engine and router answering GET $URL_PATH (full request pipeline, limits, timeouts)"
else
    echo "hyper-A : CALIBRATE=1: hyper_ref again, in percore's slot"
fi
echo "hyper   : $BIN/hyper_ref, hyper 1.x http1 on one tokio current_thread runtime,"
echo "          pinned to CPU $SERVER_CPU; answers any request 200 {\"status\":\"ok\"}, no routing,"
echo "          10s header-read timeout, TCP_NODELAY"
echo "client  : wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (keep-alive, no pipelining),"
echo "          pinned to CPU $CLIENT_CPU, warm-up $WARMUP per run; over loopback, so the numbers"
echo "          compare servers on this box, not what a NIC would deliver"
echo

for s in "$A" "$B"; do
    start_server "$s"
    echo "  $s answers:"
    show_response "$SERVER_PORT"
    stop_server
done
echo

# --- Rounds ----------------------------------------------------------------------
declare -a RATE_A RATE_B RATIOS
FLAGGED=0
printf '%-6s %-8s %12s %9s %9s %8s %7s %7s  %s\n' round server "req/s" p50 p99 "srv cpu" irq others notes
for ((r = 1; r <= ROUNDS; r++)); do
    for s in "$A" "$B"; do
        start_server "$s"
        result=$(run_wrk "$s")
        IFS='|' read -r rate p50 p99 cpu irq others note <<<"$result"
        stop_server
        printf '%-6s %-8s %12s %9s %9s %7s%% %6s%% %6s%%  %s\n' \
            "$r" "$s" "$rate" "$p50" "$p99" "$cpu" "$irq" "$others" "$note"
        if [[ $s == "$A" ]]; then RATE_A+=("$rate"); else RATE_B+=("$rate"); fi
        [[ -z $note ]] || FLAGGED=$((FLAGGED + 1))
    done
    RATIOS+=("$(awk -v a="${RATE_A[-1]}" -v b="${RATE_B[-1]}" 'BEGIN { printf "%.4f", a / b }')")
done

MA=$(median "${RATE_A[@]}")
MB=$(median "${RATE_B[@]}")
MR=$(median "${RATIOS[@]}")
echo
printf 'median req/s   : %s %.0f, %s %.0f (over %d rounds)\n' "$A" "$MA" "$B" "$MB" "$ROUNDS"
echo "ratio per round: ${RATIOS[*]}"
printf 'RESULT: %s/%s = %.2f (median of per-round ratios)\n' "$A" "$B" "$MR"
if (( FLAGGED > 0 )); then
    echo "WARNING: $FLAGGED of $((2 * ROUNDS)) runs carry a note above; the ratio is not reliable."
    echo "         Rerun on a quiet machine (or with more ROUNDS) before quoting it."
fi
echo "loadavg after  : $(cut -d' ' -f1-3 /proc/loadavg)"
echo "srv cpu        : the server's own CPU time during each measured run, in % of CPU $SERVER_CPU."
echo "irq            : interrupt and softirq time on CPU $SERVER_CPU: packet processing, mostly for"
echo "                 the server's own traffic and partly charged to it too, so the columns"
echo "                 can add up to more than 100%."
echo "others         : other processes and hypervisor steal on CPU $SERVER_CPU (noted from 10%)."
echo "                 srv cpu below ~90% means the server waited for wrk or lost its CPU."
echo "                 Either way that run's rate is a floor, not the server's capacity."

#!/bin/bash
# loadgen against wrk on the same target, each pinned to CPU 0 with the
# same connections; the target (nginx serving a small file, or TARGET=URL)
# runs on CPU 1. Rounds alternate the tools and wait for an idle machine,
# since a busy neighbour skews whichever tool runs at that moment.
# Prints req/s and the client's CPU seconds (user, sys) per run.
#
#   scripts/vs-wrk.sh [LOADGEN_BINARY]     env: C=50 D=5s ROUNDS=3 TARGET=URL
set -euo pipefail
L=${1:-/work/target-loadgen/release/loadgen}
C=${C:-50} D=${D:-5s} ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
trap 'kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -z "${TARGET:-}" ]; then
    mkdir -p "$work/html" "$work/logs"
    printf 'hello world, this is a small file' > "$work/html/small.txt"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$work/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 10;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$port; root $work/html; }
}
CONF
    nginx -p "$work" -c "$work/nginx.conf"
    sleep 0.5
    TARGET="http://127.0.0.1:$port/small.txt"
fi

idle_pct() {
    read -r _ u n s i w x y z _ < /proc/stat; local t1=$((u+n+s+i+w+x+y+z)) i1=$i
    sleep 1
    read -r _ u n s i w x y z _ < /proc/stat; local t2=$((u+n+s+i+w+x+y+z))
    echo $(( (i - i1) * 100 / (t2 - t1) ))
}

# req/s, and requests per second of client CPU (user + sys): the latter
# stays comparable when a neighbour steals part of the core.
one() {
    local name=$1; shift
    /usr/bin/time -f "%U %S %e" -o "$work/cpu" taskset -c 0 "$@" > "$work/out"
    local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$work/out")
    awk -v n="$name" -v r="$rps" '{ printf "  %-14s %10.0f req/s   %10.0f req per client CPU-s   (cpu %.2f of %.2f s)\n", n, r, r * $3 / ($1 + $2), $1 + $2, $3 }' "$work/cpu"
}

echo "target $TARGET, $C connections, $D per run"
for r in $(seq 1 "$ROUNDS"); do
    for _ in $(seq 1 30); do [ "$(idle_pct)" -ge 92 ] && break; done
    echo "round $r"
    one wrk wrk -t1 -c"$C" -d"$D" "$TARGET"
    one loadgen "$L" run "$TARGET" -t1 -c"$C" -d"$D"
    one loadgen-epoll "$L" run "$TARGET" -t1 -c"$C" -d"$D" --driver legacy
done

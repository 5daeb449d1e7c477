#!/usr/bin/env bash
# RSS over a steady run: percore (1 core) serves simple and complex GETs on the seeded contact
# table for DURATION while wrk keeps CONNECTIONS connections busy; RSS is sampled every
# INTERVAL seconds. Flat means no growth after warm-up: the last sample within a few MiB of the
# sample at the end of the first minute.
#
# Environment: DURATION [600] seconds, INTERVAL [30], CONNECTIONS [50], SVC [pg] (pg, my or db),
# SKIP_BUILD [0], SKIP_SEED [0]. Seeds like bench/db_side_by_side.sh. Loopback only.
set -euo pipefail
DURATION=${DURATION:-600}
INTERVAL=${INTERVAL:-30}
CONNECTIONS=${CONNECTIONS:-50}
SVC=${SVC:-pg}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/percore"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rss_steady.XXXXXX")
PID=""
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release -p percore --manifest-path "$ROOT/Cargo.toml"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
if [[ ${SKIP_SEED:-0} != 1 || $SVC == db ]]; then
    seed_contact "$SVC"
fi
start_percore 0
cat > "$WORK/mix.lua" <<LUA
math.randomseed(7)
wrk.headers["X-DreamFactory-API-Key"] = "$API_KEY"
local n = 0
request = function()
    n = n + 1
    if n % 10 == 0 then
        return wrk.format("GET", "/api/v2/$SVC/_table/contact?filter=age%3E%3D30&order=last_name&limit=1000")
    end
    return wrk.format("GET", "/api/v2/$SVC/_table/contact/" .. math.random(1, 100000))
end
LUA
taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/mix.lua" "http://$ADDR" > "$WORK/wrk" &
WRK=$!
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
printf "%8s %10s\n" seconds "RSS KiB"
start=$(date +%s)
while kill -0 "$WRK" 2>/dev/null; do
    printf "%8d %10d\n" $(( $(date +%s) - start )) "$(rss)"
    sleep "$INTERVAL"
done
printf "%8d %10d\n" $(( $(date +%s) - start )) "$(rss)"
grep -E "Requests/sec|Non-2xx|Socket errors" "$WORK/wrk" || true

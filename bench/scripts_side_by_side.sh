#!/usr/bin/env bash
# Simple GET throughput with a trivial pre_process event script vs without, side by side.
#
# One percore (1 core, pinned to SERVER_CPU) serves GET /api/v2/db/_table/scripts_bench/1 (embedded
# SQLite, an admin session) to wrk pinned to CLIENT_CPU. The script
# `{svc}._table.scripts_bench.get.pre_process` (checks the request's method; with MODIFY=1 it
# adds a request header instead, with modification allowed, so the request is read back) is
# switched off and on through the system API between runs, alternating for ROUNDS rounds so
# drift on the machine hits both sides alike. Prints every round and the median ratio
# with/without (the issue's target: >= 0.85). percore starts as the other database benches
# start it (bench/lib.sh).
#
# SVC=pg runs the same on PostgreSQL (PG_URL; a table `scripts_bench` is created there) instead
# of the embedded SQLite `db`.
#
# Environment: MODIFY [0], ROUNDS [3], DURATION [5s], CONNECTIONS [50], SERVER_CPU [0],
# CLIENT_CPU [1], SKIP_BUILD [0], SVC [db], PG_URL, MYSQL_URL. Loopback only; bounded in time.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-50}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/percore"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scripts_side_by_side.XXXXXX")
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
PID=""
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release -p percore --manifest-path "$ROOT/Cargo.toml"

start_percore "$SERVER_CPU" # and its admin session, TOKEN
api() { # method path [body]
    curl -sS -f -X "$1" "http://$ADDR/api/v2/$2" -H "X-DreamFactory-Session-Token: ${TOKEN:-}" \
        -H 'Content-Type: application/json' ${3:+-d "$3"} >/dev/null
}
SVC=${SVC:-db}
TABLE=scripts_bench
curl -sS -X DELETE "http://$ADDR/api/v2/$SVC/_schema/$TABLE" -H "X-DreamFactory-Session-Token: $TOKEN" >/dev/null || true
api POST "$SVC/_schema" "{\"resource\":[{\"name\":\"$TABLE\",\"field\":[{\"name\":\"id\",\"type\":\"id\"},{\"name\":\"first_name\",\"type\":\"string\",\"length\":50},{\"name\":\"age\",\"type\":\"integer\"}]}]}"
api POST "$SVC/_table/$TABLE" '{"resource":[{"first_name":"Ada","age":36},{"first_name":"Alan","age":41}]}'
EVENT=$SVC._table.$TABLE.get.pre_process
if [[ ${MODIFY:-0} == 1 ]]; then
    SCRIPT='{"type":"javascript","is_active":false,"allow_event_modification":true,"content":"event.request.headers[\"x-traced\"] = \"1\";"}'
else
    SCRIPT='{"type":"javascript","is_active":false,"allow_event_modification":false,"content":"if (event.request.method !== \"GET\") throw \"unexpected\";"}'
fi
api POST "system/event_script/$EVENT" "$SCRIPT"

rate() {
    local out
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
        -H "X-DreamFactory-Session-Token: $TOKEN" "http://$ADDR/api/v2/$SVC/_table/$TABLE/1")
    if grep -q "Non-2xx" <<<"$out"; then echo "errors: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
script() { api PATCH "system/event_script/$EVENT" "{\"is_active\":$1}"; }

echo "== warm-up"
rate >/dev/null
ratios=()
printf "%-6s %14s %14s %8s\n" round "without r/s" "with r/s" ratio
for round in $(seq 1 "$ROUNDS"); do
    script false; without=$(rate)
    script true; with=$(rate)
    ratio=$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", a / b }')
    ratios+=("$ratio")
    printf "%-6s %14.0f %14.0f %8s\n" "$round" "$without" "$with" "$ratio"
done
median=$(printf "%s\n" "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo
echo "median ratio with/without script: $median (target >= 0.85)"
echo "percore: 1 worker pinned to CPU $SERVER_CPU; wrk pinned to CPU $CLIENT_CPU; $CONNECTIONS connections; $DURATION per run."

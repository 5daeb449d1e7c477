#!/usr/bin/env bash
# Database API throughput, side by side with pgbench, in one run on the same cores.
#
# percore (1 core, pinned to SERVER_CPU) serves GET /api/v2/{svc}/_table/contact/{random id}
# ("simple") and ?filter=age>=30&order=last_name&limit=1000 ("complex"), driven by wrk with
# CONNECTIONS keep-alive connections pinned to CLIENT_CPU. pgbench runs the same SELECTs
# (-M prepared, CONNECTIONS clients, pinned to CLIENT_CPU) against the same PostgreSQL. The
# ratio percore/pgbench is printed for PostgreSQL; MariaDB and SQLite figures are printed beside
# it (no reference client). The database servers themselves float over all cores in both runs.
#
# Environment: DURATION [10s], CONNECTIONS [100], SERVER_CPU [0], CLIENT_CPU [1], SKIP_SEED [0],
# SKIP_BUILD [0], PG_URL, MYSQL_URL. Loopback only; bounded in time.
set -euo pipefail
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-100}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/percore"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/db_side_by_side.XXXXXX")
PID=""
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v pgbench >/dev/null || { echo "pgbench not found (postgresql-client)"; exit 1; }
[[ ${SKIP_BUILD:-0} == 1 ]] || cargo build --release -p percore --manifest-path "$ROOT/Cargo.toml"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
if [[ ${SKIP_SEED:-0} != 1 ]]; then
    echo "== seeding contact (100,000 rows) in PostgreSQL, MariaDB and SQLite"
    seed_contact pg
    seed_contact my
fi
seed_contact db
start_percore "$SERVER_CPU"

cat > "$WORK/simple.lua" <<'LUA'
local svc = os.getenv("SVC")
wrk.headers["X-DreamFactory-API-Key"] = os.getenv("API_KEY")
math.randomseed(42)
request = function()
    return wrk.format("GET", "/api/v2/" .. svc .. "/_table/contact/" .. math.random(1, 100000))
end
LUA
COMPLEX_PATH="_table/contact?filter=age%3E%3D30&order=last_name&limit=1000"

wrk_rate() { # svc, path-or-script
    local out
    if [[ $2 == simple ]]; then
        out=$(SVC=$1 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/simple.lua" "http://$ADDR")
    else
        out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" \
            -H "X-DreamFactory-API-Key: $API_KEY" "http://$ADDR/api/v2/$1/$COMPLEX_PATH")
    fi
    if grep -q "Non-2xx" <<<"$out"; then echo "errors: $(grep Non-2xx <<<"$out")" >&2; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}

cat > "$WORK/simple.sql" <<'SQL'
\set id random(1, 100000)
SELECT * FROM contact WHERE id = :id;
SQL
cat > "$WORK/complex.sql" <<'SQL'
SELECT * FROM contact WHERE age >= 30 ORDER BY last_name LIMIT 1000;
SQL
pgbench_rate() {
    taskset -c "$CLIENT_CPU" pgbench -n -M prepared -c "$CONNECTIONS" -j 1 -T "${DURATION%s}" -f "$WORK/$1.sql" "$PG_URL" 2>/dev/null \
        | awk '/^tps/ {print $3; exit}'
}

echo "== warm-up"
wrk_rate pg simple >/dev/null; wrk_rate my simple >/dev/null; wrk_rate db simple >/dev/null
declare -A rate
for scenario in simple complex; do
    for svc in pg my db; do rate[$scenario.$svc]=$(wrk_rate "$svc" "$scenario"); done
done
# pgbench needs CONNECTIONS server connections of its own: stop percore (and its pools) first.
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
for scenario in simple complex; do rate[$scenario.pgbench]=$(pgbench_rate "$scenario"); done

printf "\n%-10s %-8s %12s %12s %8s\n" scenario db "percore r/s" "pgbench tps" ratio
for scenario in simple complex; do
    p=${rate[$scenario.pg]}; b=${rate[$scenario.pgbench]}
    printf "%-10s %-8s %12.0f %12.0f %8.2f\n" "$scenario" postgres "$p" "$b" "$(awk -v p="$p" -v b="$b" 'BEGIN { print p / b }')"
    printf "%-10s %-8s %12.0f %12s %8s\n" "$scenario" mariadb "${rate[$scenario.my]}" - -
    printf "%-10s %-8s %12.0f %12s %8s\n" "$scenario" sqlite "${rate[$scenario.db]}" - -
done
echo
echo "percore: 1 worker pinned to CPU $SERVER_CPU; clients (wrk, pgbench) pinned to CPU $CLIENT_CPU;"
echo "$CONNECTIONS keep-alive connections / pgbench clients; $DURATION per run; databases float."
echo "Runs are sequential (percore first, then pgbench), so drift on a busy machine affects the ratio."

# Shared by the database benchmarks: seeding the contact dataset and starting percore with the
# pg, my and db services. Source it after setting ROOT, WORK, BIN, PG_URL and MYSQL_URL.

# seed_contact pg|my|db: (re)creates the 100,000-row contact table in that database.
seed_contact() {
    case $1 in
        pg) psql -q -v ON_ERROR_STOP=1 "$PG_URL" -c "SET client_min_messages = warning" \
                -f "$ROOT/bench/seed/contact.pgsql.sql" >/dev/null ;;
        my) mariadb -h 127.0.0.1 -u root test < "$ROOT/bench/seed/contact.mysql.sql" ;;
        db) mkdir -p "$WORK/data"
            python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit()' \
                "$WORK/data/db.sqlite" "$ROOT/bench/seed/contact.sqlite.sql" ;;
    esac
}

# start_percore CPU: one worker pinned to CPU, services pg, my and the embedded db; sets PID,
# ADDR, TOKEN (an admin session) and API_KEY.
start_percore() {
    mkdir -p "$WORK/data"
    cat > "$WORK/percore.toml" <<TOML
[services.pg]
type = "pgsql"
[services.pg.config]
url = "$PG_URL"
[services.my]
type = "mysql"
[services.my.config]
url = "$MYSQL_URL"
TOML
    PERCORE_ADMIN_EMAIL=bench@percore.local PERCORE_ADMIN_PASSWORD=bench-admin-password \
        taskset -c "$1" "$BIN" serve --cores 1 --listen 127.0.0.1:0 --data-dir "$WORK/data" \
        --config "$WORK/percore.toml" --log-level warn > "$WORK/out" 2>"$WORK/err" &
    PID=$!
    for _ in $(seq 1 100); do grep -q listening "$WORK/out" 2>/dev/null && break; sleep 0.1; done
    ADDR=$(awk '/listening/ {print $4}' "$WORK/out")
    [[ -n $ADDR ]] || { cat "$WORK/err"; exit 1; }
    api_key_for_reads
}

# admin_token: a session of the admin start_percore created. Sets TOKEN.
admin_token() {
    TOKEN=$(curl -sf -X POST "http://$ADDR/api/v2/system/admin/session" \
        -d '{"email":"bench@percore.local","password":"bench-admin-password"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["session_token"])')
}

# api_key_for_reads: an app whose role may GET every service (the shape of a mobile or IoT
# client), so the benchmarks pay what such clients pay: the API key lookup and the role check.
# Sets API_KEY.
api_key_for_reads() {
    local base="http://$ADDR/api/v2" token
    admin_token
    token=$TOKEN
    curl -sf -X POST "$base/system/role" -H "X-DreamFactory-Session-Token: $token" \
        -d '{"resource":[{"name":"reader","role_service_access_by_role_id":[
            {"service_id":null,"component":"*","verb_mask":1,"requestor_mask":1}]}]}' >/dev/null
    API_KEY=$(curl -sf -X POST "$base/system/app?fields=api_key" -H "X-DreamFactory-Session-Token: $token" \
        -d '{"resource":[{"name":"bench","role_id":1}]}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["resource"][0]["api_key"])')
    export API_KEY
}

#!/usr/bin/env bash
# Issue: SQL export. On loopback, wrk with 64 connections against one `pxt serve` with two insert
# routes on the same table: one plain, one with export_sql into a local PostgreSQL (a private
# cluster started here, scripts/start-test-postgres.sh), alternating ROUNDS times; req/s and p99
# of each, every acknowledged export checked to be in the target table.
source "$(dirname "$0")/common.sh"
build_release
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home"
read -r PG_URL PG_DIR < <("$ROOT/scripts/start-test-postgres.sh")
trap 'kill $SERVE_PID 2>/dev/null || true; "$ROOT/scripts/start-test-postgres.sh" stop "$PG_DIR"; rm -rf "$WORK"' EXIT
psql -q "$PG_URL" -c "CREATE TABLE items_log (id bigint, title text, title_upper text)"

mkdir -p "$WORK/svc/app"
cat > "$WORK/svc/app/items.toml" <<'TOML'
[[table]]
path = "items"
primary_key = ["id"]
[table.columns]
id = "Int"
title = "String"
[[table.computed]]
name = "title_upper"
expr = "title.upper()"
TOML
SERVE_PORT=$(free_port)
cat > "$WORK/svc/service.toml" <<TOML
[[service]]
name = "bench"
host = "127.0.0.1"
port = $SERVE_PORT
modules = ["app.items"]
[[service.routes]]
type = "insert"
table = "items"
path = "/plain"
[[service.routes]]
type = "insert"
table = "items"
path = "/exported"
outputs = ["id", "title", "title_upper"]
[service.routes.export_sql]
db_connect = "\${BENCH_PG_URL}"
table = "items_log"
TOML
(cd "$WORK/svc" && BENCH_PG_URL="$PG_URL" exec "$PXT" serve bench --config service.toml) > "$WORK/serve.log" 2>&1 & SERVE_PID=$!
wait_http "http://127.0.0.1:$SERVE_PORT/openapi.json"

run_wrk() { # name url
  wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/insert.lua" "$2" > "$WORK/$1.txt"
  python3 "$BENCH_DIR/wrkparse.py" "$WORK/$1.txt" > "$WORK/$1.json"
}
for r in $(seq 1 "$ROUNDS"); do
  ID_OFFSET=$(( (2 * r - 1) * 10000000 )) run_wrk "plain_$r" "http://127.0.0.1:$SERVE_PORT/plain"
  ID_OFFSET=$(( 2 * r * 10000000 )) run_wrk "exported_$r" "http://127.0.0.1:$SERVE_PORT/exported"
done
EXPORTED=$(psql -qtA "$PG_URL" -c "SELECT count(*) FROM items_log")
python3 - "$WORK" "$ROUNDS" "$DURATION" "$EXPORTED" <<'PY' | tee "$OUT/export.json"
import json, sys
w, rounds, exported = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
res = {"rounds": rounds, "duration_s": int(sys.argv[3]), "connections": 64}
for k in ["plain", "exported"]:
    runs = sorted((json.load(open(f"{w}/{k}_{r}.json")) for r in range(1, rounds + 1)), key=lambda x: x["requests_per_second"])
    res[k] = dict(runs[len(runs) // 2], all_requests_per_second=[x["requests_per_second"] for x in runs])
acked = sum(json.load(open(f"{w}/exported_{r}.json"))["requests"] - json.load(open(f"{w}/exported_{r}.json"))["non_2xx"] for r in range(1, rounds + 1))
# wrk counts requests cut off at the end of a run as sent; a 200 always means an exported row.
assert exported >= acked, f"{exported} exported rows for {acked} acknowledged requests"
res["exported_rows"], res["acknowledged_exports"] = exported, acked
res["exported_vs_plain"] = res["exported"]["requests_per_second"] / res["plain"]["requests_per_second"]
print(json.dumps(res))
PY
python3 "$BENCH_DIR/report.py"

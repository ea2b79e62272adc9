#!/usr/bin/env bash
# Issue: SQL export. On loopback, wrk with 64 connections against one `pxt serve` with three insert
# routes on the same table: one plain, one with export_sql into a local PostgreSQL (a private
# cluster started here, scripts/start-test-postgres.sh) delivered directly, one delivered through
# the outbox; alternating ROUNDS times; req/s and p99 of each, every acknowledged export checked
# to be in its target table (for the outbox, once the worker has caught up, which is timed).
source "$(dirname "$0")/common.sh"
build_release
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home"
read -r PG_URL PG_DIR < <("$ROOT/scripts/start-test-postgres.sh")
trap 'kill $SERVE_PID 2>/dev/null || true; "$ROOT/scripts/start-test-postgres.sh" stop "$PG_DIR"; rm -rf "$WORK"' EXIT
psql -q "$PG_URL" -c "CREATE TABLE items_log (id bigint, title text, title_upper text)"
psql -q "$PG_URL" -c "CREATE TABLE items_outbox (id bigint, title text, title_upper text)"

write_items_module "$WORK/svc"
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
outputs = ["id", "title", "title_upper"]
[[service.routes]]
type = "insert"
table = "items"
path = "/exported"
outputs = ["id", "title", "title_upper"]
[service.routes.export_sql]
db_connect = "\${BENCH_PG_URL}"
table = "items_log"
[[service.routes]]
type = "insert"
table = "items"
path = "/outboxed"
outputs = ["id", "title", "title_upper"]
[service.routes.export_sql]
db_connect = "\${BENCH_PG_URL}"
table = "items_outbox"
delivery = "outbox"
TOML
(cd "$WORK/svc" && BENCH_PG_URL="$PG_URL" exec "$PXT" serve bench --config service.toml) > "$WORK/serve.log" 2>&1 & SERVE_PID=$!
wait_http "http://127.0.0.1:$SERVE_PORT/openapi.json"

run_wrk() { # name url
  wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/insert.lua" "$2" > "$WORK/$1.txt"
  python3 "$BENCH_DIR/wrkparse.py" "$WORK/$1.txt" > "$WORK/$1.json"
}
outboxed_rows() { psql -qtA "$PG_URL" -c "SELECT count(*) FROM items_outbox"; }
DRAIN_MS=0
for r in $(seq 1 "$ROUNDS"); do
  ID_OFFSET=$(( (3 * r - 2) * 10000000 )) run_wrk "plain_$r" "http://127.0.0.1:$SERVE_PORT/plain"
  ID_OFFSET=$(( (3 * r - 1) * 10000000 )) run_wrk "exported_$r" "http://127.0.0.1:$SERVE_PORT/exported"
  ID_OFFSET=$(( 3 * r * 10000000 )) run_wrk "outboxed_$r" "http://127.0.0.1:$SERVE_PORT/outboxed"
  # The worker catches up before the next round, so that no round pays for the last one's
  # deliveries; how long that takes is the delivery lag at the end of a run.
  acked=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["requests"] - j["non_2xx"])' "$WORK/outboxed_$r.json")
  want=$(( $(cat "$WORK/outboxed_total" 2>/dev/null || echo 0) + acked ))
  echo "$want" > "$WORK/outboxed_total"
  start=$(date +%s%N)
  for _ in $(seq 1 600); do [ "$(outboxed_rows)" -ge "$want" ] && break; sleep 0.1; done
  lag=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$lag" -gt "$DRAIN_MS" ] && DRAIN_MS=$lag
done
EXPORTED=$(psql -qtA "$PG_URL" -c "SELECT count(*) FROM items_log")
OUTBOXED=$(outboxed_rows)
python3 - "$WORK" "$ROUNDS" "$DURATION" "$EXPORTED" "$OUTBOXED" "$DRAIN_MS" <<'PY' | tee "$OUT/export.json"
import json, sys
w, rounds, exported, outboxed = sys.argv[1], int(sys.argv[2]), int(sys.argv[4]), int(sys.argv[5])
res = {"rounds": rounds, "duration_s": int(sys.argv[3]), "connections": 64, "outbox_catch_up_ms": int(sys.argv[6])}
for k in ["plain", "exported", "outboxed"]:
    runs = sorted((json.load(open(f"{w}/{k}_{r}.json")) for r in range(1, rounds + 1)), key=lambda x: x["requests_per_second"])
    res[k] = dict(runs[len(runs) // 2], all_requests_per_second=[x["requests_per_second"] for x in runs])
def acked(k):
    return sum(json.load(open(f"{w}/{k}_{r}.json"))["requests"] - json.load(open(f"{w}/{k}_{r}.json"))["non_2xx"] for r in range(1, rounds + 1))
# wrk counts requests cut off at the end of a run as sent; a 200 always means an exported row.
assert exported >= acked("exported"), f"{exported} exported rows for {acked('exported')} acknowledged requests"
assert outboxed >= acked("outboxed"), f"{outboxed} rows delivered by the outbox for {acked('outboxed')} acknowledged requests"
res["exported_rows"], res["acknowledged_exports"] = exported, acked("exported")
res["outboxed_rows"], res["acknowledged_outboxed"] = outboxed, acked("outboxed")
res["exported_vs_plain"] = res["exported"]["requests_per_second"] / res["plain"]["requests_per_second"]
res["outboxed_vs_plain"] = res["outboxed"]["requests_per_second"] / res["plain"]["requests_per_second"]
print(json.dumps(res))
PY
python3 "$BENCH_DIR/report.py"

#!/usr/bin/env bash
# Issue #12 (defect 10): two `pxt serve` processes on one home. Durable single-row inserts with
# wrk, 64 connections in all: first one server alone, then two servers of the same service on
# one home, 32 connections each at the same time (their writes share one SQLite database and its
# write lock). Reports throughput and the tail (p99, p99.9, max) of each.
source "$(dirname "$0")/common.sh"
build_release
DURATION=${DURATION:-10}
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home" BENCH_DIR EXTRA_FIELDS=""
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
write_items_module "$WORK/svc"
serve() { # port
  cat > "$WORK/svc/s$1.toml" <<TOML
[[service]]
name = "items"
host = "127.0.0.1"
port = $1
modules = ["app.items"]
[[service.routes]]
type = "insert"
table = "items"
path = "/items"
TOML
  (cd "$WORK/svc" && exec "$PXT" serve items --config "s$1.toml") > "$WORK/serve-$1.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$1/openapi.json"
}
A=$(free_port); B=$(free_port)
serve "$A"; serve "$B"
run() { # name port connections offset
  ID_OFFSET=$4 wrk -t1 -c"$3" -d"${DURATION}s" --latency -s "$BENCH_DIR/p999.lua" "http://127.0.0.1:$2/items" > "$WORK/$1.txt"
  python3 "$BENCH_DIR/wrkparse.py" "$WORK/$1.txt" > "$WORK/$1.json"
}
# One server alone (the other idle), 64 connections on two wrk threads.
ID_OFFSET=0 wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/p999.lua" "http://127.0.0.1:$A/items" > "$WORK/one.txt"
python3 "$BENCH_DIR/wrkparse.py" "$WORK/one.txt" > "$WORK/one.json"
# Both at once, 32 connections each.
run two_a "$A" 32 1000000000 & w1=$!
run two_b "$B" 32 2000000000 & w2=$!
wait $w1 $w2
python3 - "$WORK" "$DURATION" <<'PY' | tee "$OUT/two-servers.json"
import json, sys
w = sys.argv[1]
one, a, b = (json.load(open(f"{w}/{n}.json")) for n in ("one", "two_a", "two_b"))
for r in (one, a, b):
    assert r["non_2xx"] == 0 and r["socket_errors"] == 0, r
print(json.dumps({"duration_s": int(sys.argv[2]), "one": one, "two": [a, b],
                  "two_total_requests_per_second": a["requests_per_second"] + b["requests_per_second"],
                  "two_worst_p999_ms": max(a["p999_ms"], b["p999_ms"])}))
PY
python3 "$BENCH_DIR/report.py"

#!/usr/bin/env bash
# Issue #12 (auth on served routes): the cost of authentication. Two `pxt serve` processes with
# the same module and routes, one with `[service.auth]` (API keys; the key is the last of 8, so
# every comparison runs against all of them), each on its own home so that neither waits on the
# other's writes; wrk with 64 connections against each in turn, alternating rounds, sending the
# same requests to both (the key too, which the server without auth ignores), so that the
# difference is the server's own work of checking it:
#   - insert route, single-row JSON (every 200 is a durable row);
#   - one_row GET query by primary key.
# Target: with auth, both within 10% of the same route without it.
source "$(dirname "$0")/common.sh"
build_release
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
trap 'kill $PLAIN_PID $AUTH_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
export EXTRA_FIELDS=", \"year\": 2000"
KEY="bench-key-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"

write_items_module "$WORK/svc"
service() { # name port auth(0|1)
  cat <<TOML
[[service]]
name = "$1"
host = "127.0.0.1"
port = $2
modules = ["app.items"]
TOML
  if [ "$3" = 1 ]; then
    cat <<'TOML'
[service.auth]
api_keys = ["other-key-1-0123456789abcdef", "other-key-2-0123456789abcdef", "other-key-3-0123456789abcdef",
            "other-key-4-0123456789abcdef", "other-key-5-0123456789abcdef", "other-key-6-0123456789abcdef",
            "other-key-7-0123456789abcdef", "${BENCH_API_KEY}"]
public = ["/openapi.json"]
TOML
  fi
  cat <<'TOML'
[[service.routes]]
type = "insert"
table = "items"
path = "/items"
[[service.routes]]
type = "query"
path = "/lookup"
query = "app.items.lookup"
one_row = true
method = "get"
TOML
}
PLAIN_PORT=$(free_port)
AUTH_PORT=$(free_port)
service plain "$PLAIN_PORT" 0 > "$WORK/svc/plain.toml"
service authed "$AUTH_PORT" 1 > "$WORK/svc/authed.toml"
(cd "$WORK/svc" && PIXELTABLE_HOME="$WORK/home-plain" exec "$PXT" serve plain --config plain.toml) > "$WORK/plain.log" 2>&1 & PLAIN_PID=$!
(cd "$WORK/svc" && PIXELTABLE_HOME="$WORK/home-auth" BENCH_API_KEY="$KEY" exec "$PXT" serve authed --config authed.toml) > "$WORK/auth.log" 2>&1 & AUTH_PID=$!
wait_http "http://127.0.0.1:$PLAIN_PORT/openapi.json" || { cat "$WORK/plain.log" >&2; exit 1; }
wait_http "http://127.0.0.1:$AUTH_PORT/openapi.json" || { cat "$WORK/auth.log" >&2; exit 1; }
# Authentication is really on: no key, 401.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AUTH_PORT/lookup?id=1")
[ "$code" = 401 ] || { echo "bench/auth.sh: the authenticated service answered $code without a key" >&2; exit 1; }

cat > "$WORK/lookup.lua" <<'LUA'
math.randomseed(os.time())
local key = os.getenv("API_KEY")
local headers = {}
if key and key ~= "" then headers["Authorization"] = "Bearer " .. key end
function request() return wrk.format("GET", "/lookup?id=" .. math.random(2, 1000), headers) end
LUA
run_wrk() { # name url script [key]
  API_KEY=${4:-} wrk -t2 -c64 -d"${DURATION}s" --latency -s "$3" "$2" > "$WORK/$1.txt"
  python3 "$BENCH_DIR/wrkparse.py" "$WORK/$1.txt" > "$WORK/$1.json"
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['non_2xx'] == 0, f\"{sys.argv[1]}: {r['non_2xx']} requests failed\"" "$WORK/$1.json"
}
# The order alternates (A B, B A, …): a run right after another is slower on this machine
# (the previous run's WAL checkpoint, the neighbours), which must not always hit the same side.
insert_plain() { ID_OFFSET=$(( (r - 1) * 10000000 )) run_wrk "insert_$r" "http://127.0.0.1:$PLAIN_PORT/items" "$BENCH_DIR/insert.lua" "$KEY"; }
insert_auth() { ID_OFFSET=$(( (r - 1) * 10000000 )) run_wrk "insert_auth_$r" "http://127.0.0.1:$AUTH_PORT/items" "$BENCH_DIR/insert.lua" "$KEY"; }
lookup_plain() { run_wrk "lookup_$r" "http://127.0.0.1:$PLAIN_PORT" "$WORK/lookup.lua" "$KEY"; }
lookup_auth() { run_wrk "lookup_auth_$r" "http://127.0.0.1:$AUTH_PORT" "$WORK/lookup.lua" "$KEY"; }
for r in $(seq 1 "$ROUNDS"); do
  # Each round inserts fresh ids (round 1 from 1, so that lookups find ids 2..1000).
  if [ $((r % 2)) = 1 ]; then insert_plain; insert_auth; else insert_auth; insert_plain; fi
done
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then lookup_plain; lookup_auth; else lookup_auth; lookup_plain; fi
done
python3 - "$WORK" "$ROUNDS" "$DURATION" <<'PY' | tee "$OUT/auth.json"
import json, sys
w, rounds = sys.argv[1], int(sys.argv[2])
res = {"rounds": rounds, "duration_s": int(sys.argv[3]), "connections": 64, "keys": 8}
for k in ["insert", "insert_auth", "lookup", "lookup_auth"]:
    runs = sorted((json.load(open(f"{w}/{k}_{r}.json")) for r in range(1, rounds + 1)), key=lambda x: x["requests_per_second"])
    res[k] = dict(runs[len(runs) // 2], all_requests_per_second=[x["requests_per_second"] for x in runs])
res["insert_auth_vs_plain"] = res["insert_auth"]["requests_per_second"] / res["insert"]["requests_per_second"]
res["lookup_auth_vs_plain"] = res["lookup_auth"]["requests_per_second"] / res["lookup"]["requests_per_second"]
print(json.dumps(res))
PY
python3 "$BENCH_DIR/report.py"

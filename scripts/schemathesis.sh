#!/usr/bin/env bash
# Property-based API tests: schemathesis (PyPI) generates requests from /openapi.json of each
# example service — the quickstart (JSON routes, queries, background jobs) and the image service
# (multipart uploads, file responses) — and the quickstart again with [service.auth], sending a
# key; every response is checked against the document (status codes, content types, schemas),
# and no request may crash the server or answer 5xx.
#   scripts/schemathesis.sh [PXT] [MAX_EXAMPLES]
# Excluded check: positive_data_acceptance, which expects every schema-valid body to be accepted;
# a duplicate primary key is schema-valid and refused with Pixeltable's 422 CONSTRAINT_VIOLATION.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PXT=${1:-$ROOT/.build/debug/pxt}
PXT="$(cd "$(dirname "$PXT")" && pwd)/$(basename "$PXT")"
EXAMPLES=${2:-40}
command -v schemathesis >/dev/null || python3 -m pip install --quiet --disable-pip-version-check schemathesis
WORK=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
status=0

run() { # name example service [key]
  local name=$1 example=$2 service=$3 key=${4:-}
  local dir="$WORK/$name" port
  cp -r "$ROOT/examples/$example" "$dir"
  port=$(free_port)
  if [ -n "$key" ]; then
    # The same service, every route behind an API key.
    python3 - "$dir/service.toml" "$service" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
# The auth table goes after the service's own keys, before its first route.
first_route = text.index("[[service.routes]]")
auth = '[service.auth]\napi_keys = ["${SCHEMATHESIS_KEY}"]\npublic = ["/openapi.json"]\n\n'
open(path, "w").write(text[:first_route] + auth + text[first_route:])
PY
  fi
  (cd "$dir" && PIXELTABLE_HOME="$dir/home" SCHEMATHESIS_KEY="$key" exec "$PXT" serve "$service" --config service.toml --host 127.0.0.1 --port "$port") > "$dir/serve.log" 2>&1 &
  pids+=($!)
  local pid=$!
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$port/openapi.json" && break; sleep 0.1; done
  local auth=()
  [ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
  echo "schemathesis: $name (http://127.0.0.1:$port/openapi.json)"
  if ! (cd "$dir" && schemathesis run "http://127.0.0.1:$port/openapi.json" --checks all --exclude-checks positive_data_acceptance \
      -n "$EXAMPLES" --generation-deterministic --request-timeout 30 "${auth[@]}"); then
    status=1
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "schemathesis: the $name server died:" >&2
    tail -40 "$dir/serve.log" >&2
    status=1
  fi
}

# The quickstart's search route embeds with all-MiniLM-L6-v2 (scripts/fetch-models.sh).
if ls "${HF_HOME:-$HOME/.cache/huggingface}"/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/config.json >/dev/null 2>&1; then
  run quickstart quickstart quickstart
  run quickstart-auth quickstart quickstart "st-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
else
  echo "schemathesis: SKIPPED the quickstart runs: all-MiniLM-L6-v2 is not installed (scripts/fetch-models.sh)" >&2
fi
run images images images
exit $status

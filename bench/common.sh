# Shared setup for the benchmark scripts: builds release binaries into .build-release as a user
# would ship `pxt` — one fully static executable (`-static-executable`: no dynamic loader work,
# which is most of a short command's start-up) — installs the load tools, and names the outputs.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
OUT="$BENCH_DIR/out"
mkdir -p "$OUT"
BIN="$ROOT/.build-release/release"
PXT="${PXT:-$BIN/pxt}"
BENCHBIN="$BIN/pxt-bench"

build_release() {
  if [ -z "${SKIP_BUILD:-}" ]; then
    local flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
    # The static C library warns about NSS functions (getpwuid) that pxt does not call.
    (cd "$ROOT" && swift build "${flags[@]}" --product pxt 2>&1 | grep -v "statically linked applications requires" >&2 \
      && swift build "${flags[@]}" --product pxt-bench 2>&1 | grep -v "statically linked applications requires" >&2)
  fi
}

# Every tool the benchmarks use, in one place.
"$ROOT/scripts/install-bench-tools.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_http() { # url
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2; return 1
}

# The benchmarks' module: `items` (id, title, year, a computed title_upper) and a primary-key
# lookup query, as app/items.toml under DIR.
write_items_module() { # dir
  mkdir -p "$1/app"
  cat > "$1/app/items.toml" <<'TOML'
[[table]]
path = "items"
primary_key = ["id"]
[table.columns]
id = "Int"
title = "String"
year = "Int"
[[table.computed]]
name = "title_upper"
expr = "title.upper()"
[[query]]
name = "lookup"
table = "items"
retrieval = ["id"]
limit = 1
TOML
}

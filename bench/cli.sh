#!/usr/bin/env bash
# Issue: the pxt command line and its daemon. Warm `pxt count`, `pxt ls` and
# `pxt get ... --json` (daemon already running), and the first command including the daemon's
# spawn (`--prepare` stops the daemon before every run), timed by hyperfine.
source "$(dirname "$0")/common.sh"
build_release
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home" PXT_PORT=$(free_port)
cat > "$WORK/t.toml" <<'TOML'
[[dir]]
path = "bench"
[[table]]
path = "bench/films"
primary_key = ["id"]
[table.columns]
id = "Int"
title = "String"
[[table.computed]]
name = "shout"
expr = "title.upper()"
TOML
"$PXT" schema update "$WORK/t.toml" >/dev/null
printf '{"id": %d, "title": "film %d"}\n' $(seq 1 1000 | awk '{print $1, $1}') | "$PXT" insert bench/films - >/dev/null
hyperfine -N --warmup 20 --runs 300 --export-json "$WORK/warm.json" \
  "$PXT count bench/films" "$PXT ls" "$PXT get bench/films 42 --json" >&2
hyperfine -N --runs 30 --prepare "$PXT daemon stop -f" --export-json "$WORK/first.json" "$PXT ls" >&2
"$PXT" daemon stop -f >/dev/null || true
python3 - "$WORK/warm.json" "$WORK/first.json" <<'PY' | tee "$OUT/cli.json"
import json, sys
warm = json.load(open(sys.argv[1]))["results"]
first = json.load(open(sys.argv[2]))["results"][0]
out = {"warm": {}, "first_with_spawn": {"median_ms": first["median"] * 1000, "mean_ms": first["mean"] * 1000}}
for r in warm:
    name = " ".join(r["command"].split()[1:2])
    out["warm"][name] = {"median_ms": r["median"] * 1000, "mean_ms": r["mean"] * 1000, "command": " ".join(r["command"].split()[1:])}
print(json.dumps(out))
PY
rm -rf "$WORK"
python3 "$BENCH_DIR/report.py"

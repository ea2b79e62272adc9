#!/usr/bin/env bash
# Issue: module files. `pxt insert` of 1,000,000 JSON-lines rows into a table with two computed
# columns, through the daemon, timed end to end (the daemon is started first).
source "$(dirname "$0")/common.sh"
build_release
ROWS=${ROWS:-1000000}
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home" PXT_PORT=$(free_port)
cat > "$WORK/films.toml" <<'TOML'
[[table]]
path = "films"
primary_key = ["id"]
[table.columns]
id = "Int"
title = "String"
year = "Int"
rating = "Float"
[[table.computed]]
name = "title_upper"
expr = "title.upper()"
[[table.computed]]
name = "decade"
expr = "year // 10 * 10"
TOML
"$BENCHBIN" make-jsonl --rows "$ROWS" --out "$WORK/rows.jsonl"
"$PXT" schema update "$WORK/films.toml" >/dev/null
"$PXT" health >/dev/null
START=$(date +%s.%N)
"$PXT" insert films "$WORK/rows.jsonl" --json > "$WORK/result.json"
END=$(date +%s.%N)
COUNT=$("$PXT" count films)
"$PXT" daemon stop -f >/dev/null || true
python3 - "$START" "$END" "$ROWS" "$COUNT" "$WORK/result.json" <<'PY' | tee "$OUT/pxt-insert.json"
import json, sys
start, end, rows, count = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
res = json.load(open(sys.argv[5]))
assert count == rows, f"count {count} != {rows}"
secs = end - start
print(json.dumps({"rows": rows, "seconds": secs, "rows_per_second": rows / secs, "version": res.get("version")}))
PY
rm -rf "$WORK"
python3 "$BENCH_DIR/report.py"

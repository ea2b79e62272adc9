#!/usr/bin/env bash
# Issue: module files and named queries. A named-query point lookup by primary key on a
# 1,000,000-row table, in-process, against a full-scan query in the same run.
source "$(dirname "$0")/common.sh"
build_release
HOME_DIR=$(mktemp -d)
"$BENCHBIN" lookup --home "$HOME_DIR" --rows "${ROWS:-1000000}" --iterations 20000 | tee "$OUT/lookup.json"
rm -rf "$HOME_DIR"
python3 "$BENCH_DIR/report.py"

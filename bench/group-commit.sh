#!/usr/bin/env bash
# Issue: engine foundation. Single-row durable inserts from 64 concurrent tasks, group commit
# against a baseline of one transaction per row, measured in the same run.
source "$(dirname "$0")/common.sh"
build_release
HOME_DIR=$(mktemp -d)
"$BENCHBIN" group-commit --home "$HOME_DIR" --tasks 64 --rows-per-task "${ROWS_PER_TASK:-500}" | tee "$OUT/group-commit.json"
rm -rf "$HOME_DIR"
python3 "$BENCH_DIR/report.py"

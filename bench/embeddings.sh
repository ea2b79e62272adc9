#!/usr/bin/env bash
# Issue: embeddings and search. On one machine, in one run:
#   - all-MiniLM-L6-v2 over 10,000 sentences of 8-40 words: pxt's encoder (sentences/s and its
#     FLOP rate) next to the NumPy implementation over the same weights (scripts/bert_numpy.py)
#     and the machine's sgemm peak through OpenBLAS;
#   - exact top-10 cosine over 100,000 x 384 vectors through a named query, next to one pass
#     summing the same bytes on every core (the memory-bandwidth floor);
#   - 1,000,000 x 384 vectors: the HNSW graph's build time, top-10 p50 and recall@10 against the
#     exact neighbours, next to the Python hnswlib package on the same vectors and parameters.
source "$(dirname "$0")/common.sh"
build_release
"$ROOT/scripts/fetch-models.sh" >&2
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home"
trap 'rm -rf "$WORK"' EXIT
MODEL=$("$PXT" models ls --json | python3 -c 'import json,sys; print(next(m["path"] for m in json.load(sys.stdin) if m["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"))')
SENTENCES=${SENTENCES:-10000}
HNSW_ROWS=${HNSW_ROWS:-1000000}

# Sentences of 8 to 40 words drawn from the model's own vocabulary (whole words only).
python3 - "$MODEL/vocab.txt" "$SENTENCES" > "$WORK/sentences.json" <<'PY'
import json, random, sys
words = [w.strip() for w in open(sys.argv[1]) if w.strip().isalpha() and w.strip().islower() and len(w.strip()) >= 3]
rng = random.Random(1234)
out = []
for _ in range(int(sys.argv[2])):
    n = rng.randint(8, 40)
    s = " ".join(rng.choice(words) for _ in range(n))
    out.append(s[0].upper() + s[1:] + ".")
print(json.dumps(out))
PY

echo "embeddings: sgemm peak" >&2
"$BENCHBIN" sgemm > "$WORK/sgemm.json"
echo "embeddings: pxt's encoder" >&2
"$BENCHBIN" embed --model "$MODEL" --sentences "$WORK/sentences.json" > "$WORK/pxt-embed.json"
echo "embeddings: the NumPy encoder" >&2
python3 "$ROOT/scripts/bert_numpy.py" "$MODEL" --time < "$WORK/sentences.json" > "$WORK/numpy-embed.json"
if python3 -c "import sentence_transformers" 2>/dev/null; then
  python3 - "$MODEL" "$WORK/sentences.json" > "$WORK/st-embed.json" <<'PY'
import json, sys, time
from sentence_transformers import SentenceTransformer
m = SentenceTransformer(sys.argv[1], device="cpu"); texts = json.load(open(sys.argv[2]))
m.encode(texts[:64]); t = time.perf_counter(); m.encode(texts, batch_size=64); print(json.dumps({"seconds": time.perf_counter() - t}))
PY
else
  echo '{"seconds": null, "note": "sentence-transformers is not installed (it needs PyTorch, which this machine does not have)"}' > "$WORK/st-embed.json"
fi

echo "embeddings: exact search over 100,000 vectors" >&2
"$BENCHBIN" vector-exact --n 100000 --dims 384 --queries 200 --home "$WORK/bench" > "$WORK/exact.json"

echo "embeddings: HNSW over $HNSW_ROWS vectors (hnswlib in Python first, then pxt)" >&2
"$BENCHBIN" make-vectors --n "$HNSW_ROWS" --dims 384 --queries 1000 --vectors-out "$WORK/vectors.f32" --queries-out "$WORK/queries.f32"
python3 "$BENCH_DIR/hnsw_python.py" "$WORK/vectors.f32" "$WORK/queries.f32" 384 "$WORK/truth.i64" 16 100 200 10 > "$WORK/hnsw-python.json"
rm -f "$WORK/vectors.f32"
"$BENCHBIN" vector-hnsw --n "$HNSW_ROWS" --dims 384 --queries 1000 --ef 200 --truth "$WORK/truth.i64" --home "$WORK/bench" > "$WORK/hnsw.json"

python3 - "$WORK" <<'PY' | tee "$OUT/embeddings.json"
import json, sys
w = sys.argv[1]
def j(n): return json.load(open(f"{w}/{n}.json"))
pxt, numpy_run, st, sgemm = j("pxt-embed"), j("numpy-embed"), j("st-embed"), j("sgemm")
res = {"model": "sentence-transformers/all-MiniLM-L6-v2", "sentences": pxt["sentences"], "tokens": pxt["tokens"],
       "pxt": pxt, "numpy": {"seconds": numpy_run["seconds"], "sentences_per_second": numpy_run["sentences"] / numpy_run["seconds"]},
       "sentence_transformers": st, "sgemm": sgemm}
res["speedup_vs_numpy"] = pxt["sentences_per_second"] / res["numpy"]["sentences_per_second"]
res["fraction_of_sgemm_peak"] = pxt["gflops"] / sgemm["gflops"]
res["exact"] = j("exact")
h, hp = j("hnsw"), j("hnsw-python")
res["hnsw"] = h
res["hnsw_python"] = hp
print(json.dumps(res))
PY
python3 "$BENCH_DIR/report.py"

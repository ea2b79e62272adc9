"""An independent NumPy implementation of a sentence-transformers BERT model (token ids from
Hugging Face's `tokenizers` library reading the model's tokenizer.json), used as the reference
that pxt's encoder is checked against in the tests and timed against in bench/embeddings.sh.

    python3 scripts/bert_numpy.py MODEL_DIR < sentences.json > vectors.json   (a JSON list of strings)
    python3 scripts/bert_numpy.py MODEL_DIR --tokens < sentences.json         (token ids only)
    python3 scripts/bert_numpy.py MODEL_DIR --time < sentences.json           (seconds to embed them all)
"""
import json, math, struct, sys

import numpy as np

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - the slower exact fallback
    _erf = np.vectorize(math.erf)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dtype = {"F32": np.float32, "F16": np.float16, "I64": np.int64}[e["dtype"]]
        out[name.removeprefix("bert.")] = np.frombuffer(data[a:b], dtype=dtype).reshape(e["shape"]).astype(np.float32 if dtype != np.int64 else np.int64)
    return out


class Model:
    def __init__(self, directory):
        self.cfg = json.load(open(f"{directory}/config.json"))
        st = json.load(open(f"{directory}/sentence_bert_config.json"))
        self.max_len = min(st.get("max_seq_length", 512), self.cfg["max_position_embeddings"])
        self.w = load_safetensors(f"{directory}/model.safetensors")
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(f"{directory}/tokenizer.json")
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=self.max_len)
        self.eps = self.cfg.get("layer_norm_eps", 1e-12)

    def ids(self, texts):
        return [e.ids for e in self.tok.encode_batch(texts)]

    def ln(self, x, g, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + self.eps) * g + b

    def encode(self, batch_ids):
        """Embeddings of one padded batch."""
        w, H = self.w, self.cfg["hidden_size"]
        heads = self.cfg["num_attention_heads"]
        dh = H // heads
        L = max(len(i) for i in batch_ids)
        B = len(batch_ids)
        ids = np.zeros((B, L), dtype=np.int64)
        mask = np.zeros((B, L), dtype=np.float32)
        for r, i in enumerate(batch_ids):
            ids[r, : len(i)] = i
            mask[r, : len(i)] = 1
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:L][None] + w["embeddings.token_type_embeddings.weight"][0]
        x = self.ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1 - mask)[:, None, None, :] * np.float32(-1e9)
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{l}."
            def lin(t, name):
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
            q = lin(x, "attention.self.query").reshape(B, L, heads, dh).transpose(0, 2, 1, 3)
            k = lin(x, "attention.self.key").reshape(B, L, heads, dh).transpose(0, 2, 1, 3)
            v = lin(x, "attention.self.value").reshape(B, L, heads, dh).transpose(0, 2, 1, 3)
            s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(dh)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s = s / s.sum(-1, keepdims=True)
            c = (s @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
            x = self.ln(lin(c, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            m = lin(x, "intermediate.dense")
            m = (0.5 * m * (1 + _erf(m / np.float32(math.sqrt(2))))).astype(np.float32)
            x = self.ln(lin(m, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts, batch_size=32):
        all_ids = self.ids(texts)
        order = sorted(range(len(texts)), key=lambda i: len(all_ids[i]))
        out = [None] * len(texts)
        for s in range(0, len(order), batch_size):
            chunk = order[s : s + batch_size]
            for i, v in zip(chunk, self.encode([all_ids[i] for i in chunk])):
                out[i] = v
        return np.stack(out) if out else np.zeros((0, self.cfg["hidden_size"]), dtype=np.float32)


if __name__ == "__main__":
    model = Model(sys.argv[1])
    texts = json.load(sys.stdin)
    if "--tokens" in sys.argv:
        print(json.dumps(model.ids(texts)))
    elif "--time" in sys.argv:
        import time
        model.embed(texts[:64])  # warm-up: first-touch of the weights, NumPy's thread pool
        t = time.perf_counter()
        model.embed(texts)
        print(json.dumps({"seconds": time.perf_counter() - t, "sentences": len(texts)}))
    else:
        print(json.dumps(model.embed(texts).tolist()))

#!/usr/bin/env bash
# Issue: image media. On one machine, in one run:
#   - a 256-px thumbnail of a 12-megapixel JPEG computed on insert through `pxt serve`'s upload
#     route, end to end (curl's time_total; the upload, the stored original, the thumbnail and
#     the row), p50 next to Pillow's Image.thumbnail (its JPEG draft on) and libvips'
#     vipsthumbnail on the same file, each writing its thumbnail as a JPEG;
#   - quality: pxt's LANCZOS resize of a photo-like image against Pillow's, as PSNR;
#   - a 200 MB upload: throughput, and the server's peak RSS during it.
source "$(dirname "$0")/common.sh"
build_release
RUNS=${RUNS:-25}
WORK=$(mktemp -d)
export PIXELTABLE_HOME="$WORK/home"
trap 'kill $SERVE_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A photo-like 4000x3000 JPEG: gradients, a hard edge and sensor-like noise (a flat synthetic
# image would be unrealistically cheap to decode).
"$BENCHBIN" make-image --width 4000 --height 3000 --detail 20 --quality 90 --out "$WORK/photo.jpg"
"$BENCHBIN" make-image --width 1600 --height 1200 --detail 8 --format png --out "$WORK/quality.png"

mkdir -p "$WORK/svc/app"
cat > "$WORK/svc/app/media.toml" <<'TOML'
[[table]]
path = "photos"
[table.columns]
image = "Image"
[[table.computed]]
name = "thumbnail"
expr = "image.thumbnail((256, 256))"

[[table]]
path = "quality"
[table.columns]
image = "Image"
[[table.computed]]
name = "resized"
expr = "image.resize((533, 400), 1)"

[[table]]
path = "files"
[table.columns]
file = "Document"
TOML
SERVE_PORT=$(free_port)
cat > "$WORK/svc/service.toml" <<TOML
[[service]]
name = "media"
host = "127.0.0.1"
port = $SERVE_PORT
modules = ["app.media"]
max_upload_bytes = 314572800
[[service.routes]]
type = "insert"
table = "photos"
path = "/photos"
inputs = []
uploadfile_inputs = ["image"]
outputs = ["thumbnail"]
[[service.routes]]
type = "insert"
table = "quality"
path = "/quality"
inputs = []
uploadfile_inputs = ["image"]
outputs = ["resized"]
[[service.routes]]
type = "insert"
table = "files"
path = "/files"
inputs = []
uploadfile_inputs = ["file"]
TOML
start_server() {
  (cd "$WORK/svc" && exec "$PXT" serve media --config service.toml) > "$WORK/serve.log" 2>&1 & SERVE_PID=$!
  wait_http "http://127.0.0.1:$SERVE_PORT/openapi.json"
}
start_server

# pxt: sequential uploads on one kept-alive connection (wrk, the multipart body built once),
# each answered once its row and files are durable; and, as a cross-check, curl with a process
# per upload (which adds its own start, file read and 100-continue round trip).
python3 - "$WORK/photo.jpg" "$WORK/upload.bin" <<'PY'
import sys
b = "pxtbench0boundary"
data = open(sys.argv[1], "rb").read()
head = f'--{b}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
open(sys.argv[2], "wb").write(head + data + f"\r\n--{b}--\r\n".encode())
PY
cat > "$WORK/upload.lua" <<LUA
local f = io.open("$WORK/upload.bin", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=pxtbench0boundary"
LUA
wrk -t1 -c1 -d"${UPLOAD_SECONDS:-15}s" --latency -s "$WORK/upload.lua" "http://127.0.0.1:$SERVE_PORT/photos" > "$WORK/wrk.txt"
python3 "$BENCH_DIR/wrkparse.py" "$WORK/wrk.txt" > "$WORK/wrk.json"
for i in $(seq 1 "$RUNS"); do
  curl -s -o /dev/null -w "%{time_total}\n" -X POST "http://127.0.0.1:$SERVE_PORT/photos" -F "image=@$WORK/photo.jpg"
done > "$WORK/pxt.txt"
curl -s -X POST "http://127.0.0.1:$SERVE_PORT/photos" -F "image=@$WORK/photo.jpg" > "$WORK/pxt-answer.json"

# Pillow: open, thumbnail (draft on, as Image.thumbnail does by default), save as JPEG.
python3 - "$WORK/photo.jpg" "$RUNS" > "$WORK/pillow.txt" <<'PY'
import io, sys, time
from PIL import Image
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    im = Image.open(sys.argv[1]); im.thumbnail((256, 256)); b = io.BytesIO(); im.save(b, "JPEG", quality=90)
    print(time.perf_counter() - t)
PY
# libvips: the vipsthumbnail command (shrink-on-load), a process per thumbnail.
python3 - "$WORK/photo.jpg" "$RUNS" "$WORK/vips.jpg" > "$WORK/vips.txt" <<'PY'
import subprocess, sys, time
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    subprocess.run(["vipsthumbnail", sys.argv[1], "-s", "256", "-o", sys.argv[3] + "[Q=90]"], check=True)
    print(time.perf_counter() - t)
PY

# Quality: the stored LANCZOS resize against Pillow's LANCZOS resize of the same PNG.
Q=$(curl -s -X POST "http://127.0.0.1:$SERVE_PORT/quality" -F "image=@$WORK/quality.png")
Q_URL=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['resized'])" "$Q")
curl -s -o "$WORK/pxt-resized.png" "$Q_URL"
python3 - "$WORK/quality.png" "$WORK/pxt-resized.png" > "$WORK/psnr.json" <<'PY'
import json, sys
import numpy as np
from PIL import Image
src = Image.open(sys.argv[1]).convert("RGB")
ref = np.asarray(src.resize((533, 400), Image.Resampling.LANCZOS), dtype=np.float64)
ours = np.asarray(Image.open(sys.argv[2]).convert("RGB"), dtype=np.float64)
mse = float(((ref - ours) ** 2).mean())
psnr = float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
print(json.dumps({"psnr_db": psnr if psnr != float("inf") else 99.0, "max_abs_diff": float(np.abs(ref - ours).max()), "size": [533, 400]}))
PY

# A 200 MB upload into a fresh server, its peak RSS read from the kernel.
kill $SERVE_PID; wait $SERVE_PID 2>/dev/null || true
start_server
head -c 209715200 /dev/urandom > "$WORK/big.bin"
BIG=$(curl -s -o "$WORK/big-answer.json" -w "%{http_code} %{time_total}" -X POST "http://127.0.0.1:$SERVE_PORT/files" -F "file=@$WORK/big.bin;type=application/octet-stream")
HWM_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVE_PID/status)

python3 - "$WORK" "$BIG" "$HWM_KB" "$RUNS" <<'PY' | tee "$OUT/media.json"
import json, os, sys
w, big, hwm, runs = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4])
def stats(name):
    xs = sorted(float(l) * 1000 for l in open(f"{w}/{name}.txt") if l.strip())
    return {"p50_ms": xs[len(xs) // 2], "p90_ms": xs[int(len(xs) * 0.9)], "min_ms": xs[0], "runs": len(xs)}
wrk = json.load(open(f"{w}/wrk.json"))
assert wrk["non_2xx"] == 0 and wrk["requests"] > 0, f"the upload route failed: {wrk}"
res = {"photo_bytes": os.path.getsize(f"{w}/photo.jpg"), "photo_size": [4000, 3000], "runs": runs,
       "pxt_upload_route": {"p50_ms": wrk["p50_ms"], "p90_ms": wrk["p90_ms"], "p99_ms": wrk.get("p99_ms"), "uploads": wrk["requests"]},
       "pxt_upload_route_curl": stats("pxt"), "pillow": stats("pillow"), "vipsthumbnail": stats("vips")}
assert "thumbnail" in json.load(open(f"{w}/pxt-answer.json")), "the upload route did not answer with a thumbnail"
res["pxt_vs_pillow"] = res["pxt_upload_route"]["p50_ms"] / res["pillow"]["p50_ms"]
res["pxt_vs_vips"] = res["pxt_upload_route"]["p50_ms"] / res["vipsthumbnail"]["p50_ms"]
res["quality"] = json.load(open(f"{w}/psnr.json"))
assert big[0] == "200", f"the 200 MB upload answered {big[0]}"
seconds = float(big[1])
res["upload_200mb"] = {"seconds": seconds, "mb_per_second": 200 / seconds, "server_peak_rss_mb": hwm / 1024}
print(json.dumps(res))
PY
python3 "$BENCH_DIR/report.py"

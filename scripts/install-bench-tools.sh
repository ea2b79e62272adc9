#!/usr/bin/env bash
# Installs what the benchmarks in bench/ measure with and against (bench/common.sh runs it):
#   wrk            HTTP load from a second process (serve, media, export)
#   hyperfine      whole-command timing (cli)
#   libvips-tools  vipsthumbnail, the thumbnail baseline (media)
#   postgresql     the export target's server (export; a private cluster, scripts/start-test-postgres.sh)
#   curl           readiness checks and uploads
# and from PyPI: Pillow (thumbnail and resampling baseline), NumPy and tokenizers (the encoder
# baseline, scripts/bert_numpy.py), SciPy, and hnswlib (the HNSW baseline).
set -euo pipefail
missing=()
for pkg in wrk hyperfine libvips-tools postgresql curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "install-bench-tools: installing ${missing[*]} (apt)" >&2
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi
python3 -c "import PIL, numpy, scipy, tokenizers, hnswlib" 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check Pillow numpy scipy tokenizers hnswlib >&2

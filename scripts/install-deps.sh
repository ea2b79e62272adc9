#!/usr/bin/env bash
# Installs the system packages pxt needs to build and run on Debian/Ubuntu:
#   libsqlite3-dev        SQLite headers and library (the embedded store, through GRDB)
#   libjpeg62-turbo-dev   libjpeg-turbo: JPEG decode (with DCT-domain scaling) and encode
#   libpng-dev            PNG decode and encode
#   libwebp-dev           WebP decode and encode
#   zlib1g-dev            zlib, which libpng needs (its static archive for the static build)
#   libopenblas-dev       OpenBLAS (its pthread build): the embedding model's matrix products and
#                         exact vector search
#   libhnswlib-dev        hnswlib (header-only C++): HNSW graphs for large embedding indexes
#   curl                  used by the README's examples
#   ffmpeg                ffprobe and ffmpeg: video and audio metadata, frames, audio segments
#   poppler-utils         pdftotext and pdfinfo: PDF text by page for documents
#   ghostscript           ps2pdf, with which the tests make their PDF files
# The -dev packages carry the static archives that `pxt`'s fully static build links.
# The benchmarks' tools (wrk, hyperfine, libvips-tools, PostgreSQL, Pillow, ...) are installed by
# scripts/install-bench-tools.sh, which bench/common.sh runs.
set -euo pipefail
missing=()
for pkg in libsqlite3-dev libjpeg62-turbo-dev libpng-dev libwebp-dev zlib1g-dev libopenblas-dev libhnswlib-dev curl ffmpeg poppler-utils ghostscript; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"

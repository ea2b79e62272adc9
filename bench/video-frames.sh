#!/usr/bin/env bash
# Frame extraction at 1 fps from a 60-second 720p H.264 video that ffmpeg generates: the time of
# `pxt insert` into a table with a `video.frame_iterator(clip, fps=1)` component view (the
# frames extracted, stored under media/ and their 60 view rows written), against a bare
# `ffmpeg -vf fps=1` writing the same JPEG frames, in alternating rounds of the same run.
# Target (#13): at most 1.3x the bare ffmpeg run. Writes bench/out/video-frames.txt.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_release
ROUNDS="${ROUNDS:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PIXELTABLE_HOME="$work/home"
video="$work/clip.mp4"
ffmpeg -nostdin -v error -y -f lavfi -i testsrc=duration=60:size=1280x720:rate=30 -c:v libx264 -pix_fmt yuv420p "$video"
cat > "$work/media.toml" <<'TOML'
[[dir]]
path = "bench"

[[table]]
path = "bench/videos"
[table.columns]
clip = "Video"

[[view]]
path     = "bench/frames"
base     = "bench/videos"
iterator = "video.frame_iterator(clip, fps=1)"
TOML
"$PXT" schema update "$work/media.toml" >/dev/null
now() { date +%s.%N; }
bare=() ours=()
for r in $(seq 1 "$ROUNDS"); do
  for which in bare pxt; do
    if [ $((r % 2)) -eq 0 ]; then which=$([ "$which" = bare ] && echo pxt || echo bare); fi
    if [ "$which" = bare ]; then
      rm -rf "$work/out" && mkdir -p "$work/out"
      t0=$(now); ffmpeg -nostdin -v error -i "$video" -vf fps=1 -q:v 2 "$work/out/%06d.jpg"; t1=$(now)
      bare+=("$(echo "$t1 - $t0" | bc)")
    else
      t0=$(now); echo "{\"clip\": \"$video\"}" | "$PXT" insert bench/videos - --format jsonl >/dev/null; t1=$(now)
      ours+=("$(echo "$t1 - $t0" | bc)")
    fi
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
b=$(median "${bare[@]}"); o=$(median "${ours[@]}")
{
  echo "video-frames: 60 s 1280x720 30 fps H.264, 1 fps, $ROUNDS alternating rounds (medians)"
  echo "bare ffmpeg -vf fps=1 to JPEG: ${b}s  (rounds: ${bare[*]})"
  echo "pxt insert with frame_iterator view: ${o}s  (rounds: ${ours[*]})"
  echo "ratio: $(echo "scale=2; $o / $b" | bc)x (target <= 1.3x)"
  echo "frames stored: $(ls -R "$PIXELTABLE_HOME/media" | grep -c '\.jpg$')"
} | tee "$OUT/video-frames.txt"

import Foundation

/// `audio.audio_splitter(audio, duration=…, overlap=0.0, min_segment_duration=0.0)`: one view
/// row per segment of an audio file (Pixeltable's `audio_splitter`, duration mode).
///
/// Outputs: `segment_start` and `segment_end` (seconds) and `audio_segment` (an Audio file).
/// Segments start every `duration - overlap` seconds and last `duration` (the last one ends
/// with the file); a last segment shorter than `min_segment_duration` is dropped. Each segment
/// is cut by `ffmpeg` with stream copy (no re-encoding, as Pixeltable copies packets), so its
/// boundaries fall on the codec's packets, which for PCM and common codecs are a few
/// milliseconds apart.
struct AudioSplitterIterator: ComponentIterator {
    var duration: Double
    var overlap: Double
    var minSegmentDuration: Double

    static let kind = IteratorKind(
        name: "audio.audio_splitter", input: .audio,
        parameters: [
            FunctionParameter("duration", .number), FunctionParameter("overlap", .number, default: .float(0)),
            FunctionParameter("min_segment_duration", .number, default: .float(0)),
        ]
    ) { a throws(FunctionError) in
        guard let d = try IteratorArguments.double(a, "duration"), d > 0, d.isFinite else {
            throw FunctionError("ValueError", "'duration' must be a positive number of seconds")
        }
        let overlap = try IteratorArguments.double(a, "overlap") ?? 0
        let minimum = try IteratorArguments.double(a, "min_segment_duration") ?? 0
        guard overlap >= 0, overlap < d else { throw FunctionError("ValueError", "'overlap' must be at least 0 and less than 'duration'") }
        guard minimum >= 0, minimum <= d else { throw FunctionError("ValueError", "'min_segment_duration' must be between 0 and 'duration'") }
        return AudioSplitterIterator(duration: d, overlap: overlap, minSegmentDuration: minimum)
    }

    var outputs: [IteratorOutput] {
        [
            IteratorOutput(name: "segment_start", type: ColumnType(.float, nullable: false)),
            IteratorOutput(name: "segment_end", type: ColumnType(.float, nullable: false)),
            IteratorOutput(name: "audio_segment", type: ColumnType(.audio)),
        ]
    }

    /// Containers whose packets ffmpeg can copy into a file of the same kind.
    static let copyable: Set<String> = ["wav", "mp3", "flac", "ogg", "m4a", "aac", "opus"]

    /// The segments' (start, end) times for a file of `total` seconds.
    func bounds(total: Double) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        var s = 0.0
        let step = duration - overlap
        while s < total - 1e-9 {
            let e = min(s + duration, total)
            out.append((s, e))
            if e >= total { break }
            s += step
        }
        if let last = out.last, out.count > 1 || minSegmentDuration > 0, last.1 - last.0 < minSegmentDuration { out.removeLast() }
        return out
    }

    func components(of input: Value, context: FunctionContext) throws(FunctionError) -> [[Value]] {
        let path = try VideoFunctions.localPath(input, context)
        let probe = try MediaProbe.probe(path, environment: context.environment)
        guard let stream = probe.audio else { throw FunctionError("InvalidDataError", "'\(path)' has no audio stream") }
        guard let total = stream.durationSeconds ?? probe.formatDuration else {
            throw FunctionError("InvalidDataError", "could not determine the duration of audio '\(path)'")
        }
        let ext = (path as NSString).pathExtension.lowercased()
        let copy = Self.copyable.contains(ext)
        let outExt = copy ? ext : "wav"
        let dir = FrameIterator.scratchDirectory(context)
        var rows: [[Value]] = []
        do {
            for (k, (s, e)) in bounds(total: total).enumerated() {
                let file = dir + "/" + String(format: "%06d.", k + 1) + outExt
                let codec = copy ? ["-c:a", "copy"] : ["-c:a", "pcm_s16le"]
                _ = try ExternalTool.ffmpeg.run(
                    ["-nostdin", "-v", "error", "-y", "-ss", String(s), "-t", String(e - s), "-i", path, "-map", "0:a:0", "-vn"] + codec + [file],
                    environment: context.environment, timeout: 600)
                rows.append([.float(s), .float(e), .media(MediaReference.file(file).url)])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        return rows
    }
}

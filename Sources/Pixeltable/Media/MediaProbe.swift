import Foundation

/// What `ffprobe` says about a video or audio file, in the shapes Pixeltable's functions return.
///
/// Pixeltable reads containers with PyAV; we ask `ffprobe` (the same libavformat underneath)
/// for its JSON report once per file and build Pixeltable's `ContainerMetadata` from it, so
/// `get_metadata()` answers with the same keys: `bit_exact`, `bit_rate`, `size`, `metadata`,
/// `streams` (each with `type`, `duration` in time-base units, `time_base`, `duration_seconds`,
/// `frames`, `metadata`, `codec_context`, and for video `width`, `height` and the rates).
struct MediaProbe: Sendable {
    /// One stream of the container.
    struct Stream: Sendable {
        var type: String
        var index: Int
        var timeBase: Double?
        var duration: Int64?
        var durationSeconds: Double?
        var frames: Int64
        var width: Int?
        var height: Int?
        var averageRate: Double?
        var baseRate: Double?
        var startSeconds: Double
        var sampleRate: Int?
        var channels: Int?
        var codecName: String?
        var json: JSONValue
    }

    var streams: [Stream]
    /// The container's duration in seconds, if known.
    var formatDuration: Double?
    var formatName: String
    var json: JSONValue

    var video: Stream? { streams.first { $0.type == "video" } }
    var audio: Stream? { streams.first { $0.type == "audio" } }

    /// Probes `path` with `ffprobe`.
    ///
    /// - Throws: ``FunctionError`` naming the file when it is not a media file ffprobe can read,
    ///   or when ffprobe is missing (with the package to install).
    static func probe(_ path: String, environment: [String: String]) throws(FunctionError) -> MediaProbe {
        let out: ExternalTool.Output
        do {
            out = try ExternalTool.ffprobe.run(
                ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", path], environment: environment, timeout: 60,
                maxOutput: 16 << 20)
        } catch {
            if error.message.hasPrefix("ffprobe failed") {
                throw FunctionError("InvalidDataError", "not a readable media file: '\(path)': \(ExternalTool.lastLines(error.message, count: 1))")
            }
            throw error
        }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes: out.stdout) } catch {
            throw FunctionError("InvalidDataError", "ffprobe gave an unreadable report for '\(path)'")
        }
        guard let format = root["format"] else {
            throw FunctionError("InvalidDataError", "not a readable media file: '\(path)'")
        }
        var streams: [Stream] = []
        if case .array(let list)? = root["streams"] {
            for s in list { streams.append(stream(s)) }
        }
        let metadata = JSONValue.object((format["tags"].flatMap(pairs) ?? []))
        let json = JSONValue.object([
            ("bit_exact", .bool(false)),
            ("bit_rate", number(format["bit_rate"]).map { .int(Int64($0)) } ?? .null),
            ("size", number(format["size"]).map { .int(Int64($0)) } ?? .null),
            ("metadata", metadata),
            ("streams", .array(streams.map(\.json))),
        ])
        return MediaProbe(
            streams: streams, formatDuration: number(format["duration"]), formatName: format["format_name"]?.stringValue ?? "", json: json)
    }

    /// The duration in seconds: the first video stream's, else the container's (as PyAV's
    /// `get_video_duration`).
    var duration: Double? { video?.durationSeconds ?? audio?.durationSeconds ?? formatDuration }

    private static func stream(_ s: JSONValue) -> Stream {
        let type = s["codec_type"]?.stringValue ?? "unknown"
        let timeBase = rational(s["time_base"]?.stringValue)
        let duration = s["duration_ts"]?.intValue
        let seconds = number(s["duration"]) ?? duration.flatMap { d in timeBase.map { Double(d) * $0 } }
        let frames = number(s["nb_frames"]).map { Int64($0) } ?? 0
        let tags = JSONValue.object(s["tags"].flatMap(pairs) ?? [])
        var codec: [(String, JSONValue)] = [
            ("name", s["codec_name"].map { .string($0.stringValue ?? "") } ?? .null),
            ("codec_tag", .string(s["codec_tag_string"]?.stringValue ?? "")),
            ("profile", s["profile"]?.stringValue.map { .string($0) } ?? .null),
        ]
        var out = Stream(
            type: type, index: Int(s["index"]?.intValue ?? 0), timeBase: timeBase, duration: duration, durationSeconds: seconds, frames: frames,
            width: nil, height: nil, averageRate: nil, baseRate: nil, startSeconds: number(s["start_time"]) ?? 0,
            sampleRate: number(s["sample_rate"]).map { Int($0) }, channels: s["channels"]?.intValue.map { Int($0) },
            codecName: s["codec_name"]?.stringValue, json: .null)
        guard type == "video" || type == "audio" else {
            out.json = .object([("type", .string(type))])
            return out
        }
        if type == "audio" { codec.append(("channels", out.channels.map { .int(Int64($0)) } ?? .null)) }
        var fields: [(String, JSONValue)] = [
            ("type", .string(type)),
            ("duration", duration.map { .int($0) } ?? .null),
            ("time_base", timeBase.map { .double($0) } ?? .null),
            ("duration_seconds", seconds.map { .double($0) } ?? .null),
            ("frames", .int(frames)),
            ("metadata", tags),
        ]
        if type == "video" {
            codec.append(("pix_fmt", s["pix_fmt"]?.stringValue.map { .string($0) } ?? .null))
            out.width = s["width"]?.intValue.map { Int($0) }
            out.height = s["height"]?.intValue.map { Int($0) }
            out.averageRate = rational(s["avg_frame_rate"]?.stringValue)
            out.baseRate = rational(s["r_frame_rate"]?.stringValue)
            fields += [
                ("width", out.width.map { .int(Int64($0)) } ?? .null),
                ("height", out.height.map { .int(Int64($0)) } ?? .null),
                ("average_rate", out.averageRate.map { .double($0) } ?? .null),
                ("base_rate", out.baseRate.map { .double($0) } ?? .null),
                ("guessed_rate", (out.averageRate ?? out.baseRate).map { .double($0) } ?? .null),
            ]
        }
        fields.append(("codec_context", .object(codec)))
        out.json = .object(fields)
        return out
    }

    /// ffprobe prints numbers as strings ("12.5", "967260").
    private static func number(_ v: JSONValue?) -> Double? {
        guard let v else { return nil }
        if let d = v.doubleValue { return d }
        if let s = v.stringValue, let d = Double(s), d.isFinite { return d }
        return nil
    }

    /// "1/12800" or "30000/1001" as a double; `nil` for "0/0".
    private static func rational(_ s: String?) -> Double? {
        guard let s else { return nil }
        let parts = s.split(separator: "/")
        guard parts.count == 2, let n = Double(parts[0]), let d = Double(parts[1]), d != 0, n != 0 else { return nil }
        return n / d
    }

    private static func pairs(_ v: JSONValue) -> [(String, JSONValue)]? {
        guard case .object(let o) = v else { return nil }
        return o.pairs.map { ($0.key, .string($0.value.stringValue ?? JSONWriter.compact.string($0.value))) }
    }
}

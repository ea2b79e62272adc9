import Foundation

/// `video.frame_iterator(video, fps=…, num_frames=…, keyframes_only=…)`: one view row per
/// extracted frame (Pixeltable's `frame_iterator`).
///
/// Outputs: `frame_idx` (the frame's index in the video stream), `pts` (its presentation
/// timestamp in the stream's time base), `frame` (the Image) and `frame_attrs` (Pixeltable's
/// attribute dict: `index`, `pts`, `dts`, `time`, `is_corrupt`, `key_frame`, `pict_type`,
/// `interlaced_frame`).
///
/// One `ffmpeg` run decodes the video once and writes the chosen frames as JPEG files into the
/// home's `tmp/`, from where the write links them under `media/`: no frame passes through this
/// process. Frames are chosen as Pixeltable chooses them: with `fps`, the frame nearest each
/// time `start + k/fps`; with `num_frames`, the frame nearest the middle of each of
/// `num_frames` equal intervals; an `fps` at or above the video's rate takes every frame.
/// ffmpeg's `select` filter keeps the first frame within half a frame of each target time
/// (`gte(t + half, target)`), which for a constant-rate video is the nearest one, and
/// `showinfo` reports each kept frame's timestamp and picture type.
struct FrameIterator: ComponentIterator {
    var fps: Double?
    var numFrames: Int?
    var keyframesOnly: Bool

    static let kind = IteratorKind(
        name: "video.frame_iterator", input: .video,
        parameters: [
            FunctionParameter("fps", .number, default: .null), FunctionParameter("num_frames", .int, default: .null),
            FunctionParameter("keyframes_only", .bool, default: .bool(false)),
        ]
    ) { a throws(FunctionError) in
        let it = FrameIterator(
            fps: try IteratorArguments.double(a, "fps"), numFrames: try IteratorArguments.int(a, "num_frames"),
            keyframesOnly: try IteratorArguments.bool(a, "keyframes_only"))
        if [it.fps != nil, it.numFrames != nil, it.keyframesOnly].filter({ $0 }).count > 1 {
            throw FunctionError("ValueError", "at most one of 'fps', 'num_frames' or 'keyframes_only' may be specified")
        }
        if let f = it.fps, !(f > 0 && f.isFinite) { throw FunctionError("ValueError", "'fps' must be a positive number, got \(f)") }
        if let n = it.numFrames, n < 1 { throw FunctionError("ValueError", "'num_frames' must be at least 1, got \(n)") }
        return it
    }

    var outputs: [IteratorOutput] {
        [
            IteratorOutput(name: "frame_idx", type: ColumnType(.int, nullable: false)), IteratorOutput(name: "pts", type: ColumnType(.int)),
            IteratorOutput(name: "frame", type: ColumnType(.image)), IteratorOutput(name: "frame_attrs", type: ColumnType(.json)),
        ]
    }

    /// One frame as `showinfo` reports it.
    struct FrameInfo {
        var n: Int
        var pts: Int64
        var time: Double
        var isKey: Bool
        var type: String
    }

    func components(of input: Value, context: FunctionContext) throws(FunctionError) -> [[Value]] {
        let path = try VideoFunctions.localPath(input, context)
        let probe = try MediaProbe.probe(path, environment: context.environment)
        guard let stream = probe.video else { throw FunctionError("InvalidDataError", "'\(path)' has no video stream") }
        let rate = stream.averageRate ?? stream.baseRate
        let start = stream.startSeconds
        var before: [String] = []
        var filter = "showinfo"
        var limit: [String] = []
        let select = { (t0: Double, step: Double) -> String in
            let half = rate.map { 0.5 / $0 } ?? 0
            return "select=gte(t+\(half)\\,\(t0)+selected_n*\(step)),showinfo"
        }
        if keyframesOnly {
            before = ["-skip_frame", "nokey"]
        } else if let n = numFrames {
            guard let d = stream.durationSeconds ?? probe.formatDuration else {
                throw FunctionError("InvalidDataError", "could not determine the duration of video '\(path)'")
            }
            let step = d / Double(n)
            filter = select(start + step / 2, step)
            limit = ["-frames:v", String(n)]
        } else if let f = fps, rate.map({ f < $0 }) ?? true {
            filter = select(start, 1 / f)
        }
        let dir = Self.scratchDirectory(context)
        var log: [FrameInfo] = []
        do {
            let out = try ExternalTool.ffmpeg.run(
                ["-nostdin", "-hide_banner", "-loglevel", "info"] + before
                    + ["-i", path, "-map", "0:v:0", "-vf", filter, "-fps_mode", "passthrough", "-q:v", "2"] + limit + [dir + "/%06d.jpg"],
                environment: context.environment, timeout: 3600, maxLog: 256 << 20)
            log = Self.parseShowinfo(out.stderr)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        var rows: [[Value]] = []
        rows.reserveCapacity(log.count)
        let timeBase = stream.timeBase ?? 1
        for (k, f) in log.enumerated() {
            let file = dir + "/" + String(format: "%06d.jpg", k + 1)
            guard FileInfo.of(path: file)?.isRegular == true else { break }
            let index = rate.map { Int(((f.time - start) * $0).rounded()) } ?? f.n
            let pts = Int64((f.time / timeBase).rounded())
            let attrs = JSONValue.object([
                ("index", .int(Int64(index))), ("pts", .int(pts)), ("dts", .null), ("time", .double(f.time)), ("is_corrupt", .bool(false)),
                ("key_frame", .bool(f.isKey)), ("pict_type", .int(Self.pictureType(f.type))), ("interlaced_frame", .bool(false)),
            ])
            rows.append([.int(Int64(index)), .int(pts), .media(MediaReference.file(file).url), .json(attrs)])
        }
        return rows
    }

    /// A new directory for one run's output files: in the home's `tmp/` (so that the write
    /// links them under `media/`), named `iter-…` so that the write removes it afterwards.
    static func scratchDirectory(_ context: FunctionContext) -> String {
        let dir: String
        if let media = context.media {
            dir = (media.temporaryPath(extension: "") as NSString).deletingLastPathComponent + "/iter-" + MediaStore.randomHex()
        } else {
            dir = NSTemporaryDirectory() + "/pxt-iter-" + MediaStore.randomHex()
        }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return dir
    }

    /// The frames `showinfo` reported, in output order.
    static func parseShowinfo(_ log: String) -> [FrameInfo] {
        var out: [FrameInfo] = []
        for line in log.split(separator: "\n") where line.contains("Parsed_showinfo") && line.contains(" n:") {
            func field(_ key: String) -> Substring? {
                guard let r = line.range(of: " " + key + ":") else { return nil }
                let rest = line[r.upperBound...].drop { $0 == " " }
                return rest.prefix { $0 != " " }
            }
            guard let n = field("n").flatMap({ Int($0) }), let t = field("pts_time").flatMap({ Double($0) }) else { continue }
            out.append(
                FrameInfo(
                    n: n, pts: field("pts").flatMap { Int64($0) } ?? 0, time: t, isKey: field("iskey") == "1", type: String(field("type") ?? "?")))
        }
        return out
    }

    /// PyAV's `pict_type` numbers (libavutil's AVPictureType): I 1, P 2, B 3, S 4, SI 5, SP 6, BI 7.
    static func pictureType(_ t: String) -> Int64 {
        ["I": 1, "P": 2, "B": 3, "S": 4, "i": 5, "p": 6, "b": 7][t] ?? 0
    }
}

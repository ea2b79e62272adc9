import Foundation

/// `video.*` and `audio.*`: Pixeltable's video and audio UDFs (`pixeltable.functions.video`,
/// `pixeltable.functions.audio`) as methods of Video and Audio columns:
/// `clip.get_duration()`, `clip.extract_frame(timestamp=2.5)`, `clip.extract_audio()`,
/// `podcast.get_metadata()`.
///
/// They run `ffprobe` and `ffmpeg` (``ExternalTool``): a file those cannot read, or a missing
/// program, is a per-cell error naming the file or the package to install. Each is marked as a
/// batch function so that computed columns calling it are computed outside the write
/// transaction and off the cooperative thread pool, like model calls: a subprocess takes
/// milliseconds to seconds.
enum VideoFunctions {
    static let all: [ExpressionFunction] = [
        media("video.get_metadata", [.init("self", .kind(.video))], returns: BuiltinFunctions.jsonType) { c, a throws(FunctionError) in
            .json(try MediaProbe.probe(try localPath(a[0], c), environment: c.environment).json)
        },
        media("video.get_duration", [.init("self", .kind(.video))], returns: ColumnType(.float, nullable: true)) { c, a throws(FunctionError) in
            try MediaProbe.probe(try localPath(a[0], c), environment: c.environment).duration.map { .float($0) } ?? .null
        },
        media(
            "video.extract_frame", [.init("self", .kind(.video)), .init("timestamp", .number)], returns: ColumnType(.image, nullable: true)
        ) { c, a throws(FunctionError) in
            try extractFrame(try localPath(a[0], c), at: try number(a[1]), c)
        },
        media(
            "video.extract_audio",
            [
                .init("self", .kind(.video)), .init("stream_idx", .int, default: .int(0)), .init("format", .string, default: .string("wav")),
                .init("codec", .string, default: .null),
            ],
            returns: ColumnType(.audio, nullable: true)
        ) { c, a throws(FunctionError) in
            try extractAudio(
                try localPath(a[0], c), stream: Int(clamping: a[1].intValue ?? 0), format: BuiltinFunctions.str(a[2]),
                codec: a[3].isNull ? nil : BuiltinFunctions.str(a[3]), c)
        },
        media("audio.get_metadata", [.init("self", .kind(.audio))], returns: BuiltinFunctions.jsonType) { c, a throws(FunctionError) in
            .json(try MediaProbe.probe(try localPath(a[0], c), environment: c.environment).json)
        },
        media("audio.get_duration", [.init("self", .kind(.audio))], returns: ColumnType(.float, nullable: true)) { c, a throws(FunctionError) in
            try MediaProbe.probe(try localPath(a[0], c), environment: c.environment).duration.map { .float($0) } ?? .null
        },
    ]

    /// A function that needs the catalog's context, marked as one that runs batches (see the
    /// type's comment); the batch form calls it row by row.
    static func media(
        _ name: String, _ parameters: [FunctionParameter], returns: ColumnType,
        _ body: @escaping @Sendable (FunctionContext, [Value]) throws(FunctionError) -> Value
    ) -> ExpressionFunction {
        // Only a null receiver makes the result null: optional arguments default to null.
        let call = { @Sendable (c: FunctionContext, a: [Value]) throws(FunctionError) -> Value in a[0].isNull ? .null : try body(c, a) }
        var f = ExpressionFunction(name, parameters, returns: returns, propagatesNull: false) { a in try call(FunctionContext(), a) }
        f.contextual = { c, a in try call(c, a) }
        f.batch = { c, calls in calls.map { a in Result { () throws(FunctionError) -> Value in try call(c, a) } } }
        return f
    }

    /// A numeric argument.
    static func number(_ v: Value) throws(FunctionError) -> Double {
        switch v {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw FunctionError("TypeError", "expected a number, got \(v.kindDescription)")
        }
    }

    /// The local file a media value names: a stored or referenced file, or a remote URL's copy
    /// in the file cache (fetched if needed).
    static func localPath(_ v: Value, _ context: FunctionContext) throws(FunctionError) -> String {
        guard let text = v.stringValue else { throw FunctionError("TypeError", "expected a media file, got \(v.kindDescription)") }
        let ref: MediaReference
        do { ref = try MediaReference(parsing: text) } catch { throw FunctionError("ValueError", "\(error.message): \(PythonRepr.string(text))") }
        switch ref {
        case .file(let p):
            guard FileInfo.of(path: p)?.isRegular == true else { throw FunctionError("FileNotFoundError", "file not found: '\(p)'") }
            return p
        case .remote(let url):
            guard let media = context.media else { throw FunctionError("RuntimeError", "a remote file needs a catalog: \(url)") }
            do { return try media.remote.fetchBlocking(url) } catch { throw FunctionError("OSError", error.description) }
        }
    }

    /// Pixeltable's `extract_frame`: the first frame at or after `timestamp` seconds, or null past
    /// the end.
    static func extractFrame(_ path: String, at timestamp: Double, _ c: FunctionContext) throws(FunctionError) -> Value {
        guard timestamp >= 0, timestamp.isFinite else { throw FunctionError("ValueError", "timestamp must be non-negative, got \(timestamp)") }
        let probe = try MediaProbe.probe(path, environment: c.environment)
        guard probe.video != nil else { throw FunctionError("InvalidDataError", "'\(path)' has no video stream") }
        if let d = probe.duration, timestamp > d { return .null }
        // -ss after -i decodes from the start up to the timestamp: exact, where -ss before -i
        // would land on the keyframe before it.
        let out = try ExternalTool.ffmpeg.run(
            ["-nostdin", "-v", "error", "-i", path, "-ss", String(timestamp), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
            environment: c.environment, timeout: 120)
        if out.stdout.isEmpty { return .null }
        do { return .image(ImageValue(try ImageCodec.decode(out.stdout))) } catch { throw error.functionError }
    }

    /// The audio formats `extract_audio` writes: container name, default codec, extension.
    static let audioFormats: [String: (codec: String, ext: String)] = [
        "wav": ("pcm_s16le", "wav"), "mp3": ("libmp3lame", "mp3"), "flac": ("flac", "flac"), "ogg": ("libvorbis", "ogg"),
        "mp4": ("aac", "m4a"), "adts": ("aac", "aac"),
    ]

    /// Pixeltable's `extract_audio`: the audio stream `stream` as a new file (stored as the
    /// cell's media file), or null when the video has no such stream.
    static func extractAudio(_ path: String, stream: Int, format: String, codec: String?, _ c: FunctionContext) throws(FunctionError) -> Value {
        guard let f = audioFormats[format] else {
            throw FunctionError("ValueError", "extract_audio(): unsupported audio format: \(format) (use one of \(audioFormats.keys.sorted().joined(separator: ", ")))")
        }
        let probe = try MediaProbe.probe(path, environment: c.environment)
        let audio = probe.streams.filter { $0.type == "audio" }
        guard stream >= 0, stream < audio.count else { return .null }
        let target = temporaryPath(c, extension: "." + f.ext)
        do {
            _ = try ExternalTool.ffmpeg.run(
                ["-nostdin", "-v", "error", "-y", "-i", path, "-map", "0:a:\(stream)", "-vn", "-c:a", codec ?? f.codec, "-f", format, target],
                environment: c.environment, timeout: 600)
        } catch {
            unlink(target)
            throw error
        }
        return .media(MediaReference.file(target).url)
    }

    /// A new file name in the home's `tmp/` (so that a write stores the file under `media/`),
    /// or in the system's temporary directory without a catalog.
    static func temporaryPath(_ c: FunctionContext, extension ext: String) -> String {
        if let media = c.media { return media.temporaryPath(extension: ext) }
        return NSTemporaryDirectory() + "/pxt-" + MediaStore.randomHex() + ext
    }
}

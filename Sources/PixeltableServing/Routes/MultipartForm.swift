import Foundation
import MultipartKit
import NIOCore
import Pixeltable

/// A file part of a `multipart/form-data` request, written to the home's `tmp/` as it arrived.
struct UploadedFile: Sendable {
    /// Where the bytes are.
    var path: String
    /// The client's name for the file, if it gave one.
    var filename: String?
    /// The part's `Content-Type`, if any.
    var contentType: String?
    /// Its size in bytes.
    var size: Int
}

/// The fields and files of a `multipart/form-data` request.
struct MultipartForm: Sendable {
    var fields: [String: String] = [:]
    var files: [String: UploadedFile] = [:]

    /// Removes the uploaded files (a stored upload keeps its hard link under `media/`).
    func removeFiles() {
        for f in files.values { unlink(f.path) }
    }
}

/// Why a multipart request could not be read.
enum MultipartFailure: Error, Sendable {
    /// The body is over the upload limit (413).
    case tooLarge(limit: Int)
    /// The body is not valid multipart (400).
    case malformed(String)
    /// A file could not be written (500).
    case storage(String)
}

/// Reads a `multipart/form-data` body as it streams in with multipart-kit's incremental
/// parser: file parts go straight to files under `tmp/` (never whole in memory), other parts are
/// collected as form fields.
struct MultipartReader {
    /// The largest total body accepted.
    let maxBytes: Int
    /// The largest non-file field kept in memory.
    let maxFieldBytes = 1 << 20
    /// Names of the parts that are files to keep.
    let fileFields: Set<String>
    /// Makes a new temporary path for an extension (with its dot).
    let temporaryPath: @Sendable (String) -> String

    /// The boundary of a `multipart/form-data` content type, or `nil` for any other type.
    static func boundary(contentType: String?) -> String? {
        guard let ct = contentType else { return nil }
        let parts = ct.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
            var b = kv[1]
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            return b.isEmpty || b.count > 200 ? nil : b
        }
        return nil
    }

    /// Reads the whole body.
    ///
    /// multipart-kit's parser reads headers and boundaries. Inside a part's body it hands over
    /// the bytes between carriage returns one slice at a time (in a binary file, every 256 bytes
    /// or so), which for a large upload costs more than receiving it; so while the parser is
    /// known to be inside a body, the bytes up to the next delimiter (`\r\n--boundary`) go to
    /// the part directly and the parser resumes at the delimiter. The parser is known to be in
    /// a body only after it reported body bytes and was last fed data with no partial
    /// delimiter at its end (such a tail is held back and fed with the next chunk), so it is
    /// never bypassed in the middle of matching a boundary. Tests compare both paths.
    func read<Body: AsyncSequence>(_ body: Body, boundary: String) async throws(MultipartFailure) -> MultipartForm where Body.Element == ByteBuffer {
        let sink = PartSink(reader: self)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in sink.header(name, value) }
        parser.onBody = { buffer in sink.body(&buffer) }
        parser.onPartComplete = { sink.complete() }
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var total = 0
        var carry: [UInt8] = []
        var parseFailed = false
        /// Handles `data` (held-back bytes, then a chunk): past the parser inside a body, fed to
        /// it elsewhere; what must wait for more bytes is left in `carry`.
        func process(_ data: UnsafeBufferPointer<UInt8>) {
            var start = 0
            if sink.inBody && !Self.parserOnly {
                if let k = Self.find(delimiter, in: data) {
                    sink.deliver(UnsafeBufferPointer(rebasing: data[0..<k]))
                    start = k
                } else {
                    let keep = Self.heldBack(data, delimiter)
                    sink.deliver(UnsafeBufferPointer(rebasing: data[0..<keep]))
                    carry = Array(data[keep...])
                    return
                }
            }
            let keep = max(start, Self.heldBack(data, delimiter))
            if keep > start {
                do { try parser.execute(ByteBuffer(bytes: data[start..<keep])) } catch { parseFailed = true }
            }
            carry = Array(data[keep...])
        }
        do {
            for try await chunk in body {
                total += chunk.readableBytes
                if total > maxBytes { throw MultipartFailure.tooLarge(limit: maxBytes) }
                if carry.isEmpty {
                    chunk.withUnsafeReadableBytes { raw in
                        process(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
                    }
                } else {
                    var data = carry
                    data.append(contentsOf: chunk.readableBytesView)
                    data.withUnsafeBufferPointer { process($0) }
                }
                if parseFailed { throw MultipartFailure.malformed("There was an error parsing the body") }
                if let failure = sink.failure { throw failure }
            }
            if !carry.isEmpty {
                do { try parser.execute(ByteBuffer(bytes: carry)) } catch { throw MultipartFailure.malformed("There was an error parsing the body") }
            }
            guard sink.finished else { throw MultipartFailure.malformed("There was an error parsing the body") }
            try sink.flush()
        } catch let f as MultipartFailure {
            sink.abandon()
            throw f
        } catch {
            sink.abandon()
            throw MultipartFailure.malformed("There was an error parsing the body: \(error)")
        }
        return sink.form
    }

    /// Feed every byte through the parser (for tests that compare the two paths).
    nonisolated(unsafe) static var parserOnly = false

    /// The first index of `needle` in `hay`.
    static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = needle.first, hay.count >= needle.count, let base = hay.baseAddress else { return nil }
        return needle.withUnsafeBufferPointer { n -> Int? in
            var i = 0
            let last = hay.count - n.count
            while i <= last {
                guard let p = memchr(base + i, Int32(first), last - i + 1) else { return nil }
                let at = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }

    /// The first index of `needle` in an array.
    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        hay.withUnsafeBufferPointer { find(needle, in: $0) }
    }

    /// How much of `data` can be fed to the parser so that, if it is in a body, it ends there
    /// with no delimiter partly matched: every tail that could begin the delimiter (or is all of
    /// it) is held back until more bytes arrive — after cutting one, the rest is checked again,
    /// since it may end with a shorter partial match (`\r\n--\r\n-`).
    static func heldBack(_ data: UnsafeBufferPointer<UInt8>, _ delimiter: [UInt8]) -> Int {
        var keep = data.count
        while true {
            var cut: Int? = nil
            let from = max(0, keep - delimiter.count)
            for p in from..<keep where data[p] == delimiter[0] {
                if data[p..<keep].elementsEqual(delimiter[0..<(keep - p)]) {
                    cut = p
                    break
                }
            }
            guard let cut else { return keep }
            keep = cut
        }
    }

    /// The extension for an uploaded file: its name's, else one for its content type.
    static func fileExtension(filename: String?, contentType: String?) -> String {
        if let f = filename {
            let e = (f as NSString).pathExtension.lowercased()
            if !e.isEmpty, e.count <= 10, e.allSatisfy({ $0.isLetter || $0.isNumber }) { return "." + e }
        }
        switch contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "image/jpeg": return ".jpg"
        case "image/png": return ".png"
        case "image/webp": return ".webp"
        case "image/gif": return ".gif"
        case "video/mp4": return ".mp4"
        case "audio/mpeg": return ".mp3"
        case "audio/wav", "audio/x-wav": return ".wav"
        case "application/pdf": return ".pdf"
        case "text/plain": return ".txt"
        default: return ""
        }
    }
}

/// Collects parts for ``MultipartReader`` (the parser's callbacks run on the reading task only).
private final class PartSink {
    let reader: MultipartReader
    var form = MultipartForm()
    var failure: MultipartFailure?
    var finished = false
    private var headers: [(String, String)] = []
    private var name: String?
    private var filename: String?
    private var started = false
    private var fd: Int32 = -1
    private var path: String?
    private var size = 0
    private var field: [UInt8] = []
    private var skipping = false
    private var everStarted = false
    private var pending: [UInt8] = []
    static let writeSize = 256 * 1024
    /// The parser's last report was body bytes of the current part.
    var inBody = false

    /// Body bytes of the current part that bypassed the parser.
    func deliver(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        // A long run goes to the file as it is, not through the gathering buffer.
        if fd >= 0, pending.isEmpty, bytes.count >= Self.writeSize, !skipping, failure == nil, started {
            inBody = true
            size += bytes.count
            write(UnsafeRawBufferPointer(bytes))
            return
        }
        accept(bytes)
    }

    /// Writes the gathered bytes of the current file part.
    private func writeOut() {
        guard fd >= 0, !pending.isEmpty else { return }
        pending.withUnsafeBytes { write($0) }
        pending.removeAll(keepingCapacity: true)
    }

    private func write(_ raw: UnsafeRawBufferPointer) {
        if !FileDescriptor.writeAll(fd, raw) {
            failure = .storage("cannot write \(path ?? "an upload"): \(String(cString: strerror(errno)))")
        }
    }

    init(reader: MultipartReader) { self.reader = reader }

    deinit { if fd >= 0 { close(fd) } }

    func header(_ name: String, _ value: String) {
        inBody = false
        headers.append((name, value))
    }

    /// Starts a part once its headers are in.
    private func begin() {
        started = true
        everStarted = true
        let disposition = headers.first { $0.0.lowercased() == "content-disposition" }?.1 ?? ""
        let params = Self.parameters(disposition)
        name = params["name"]
        filename = params["filename"]
        let contentType = headers.first { $0.0.lowercased() == "content-type" }?.1
        field = []
        size = 0
        skipping = false
        guard let name else { skipping = true; return }
        if reader.fileFields.contains(name) {
            if form.files[name] != nil { skipping = true; return }
            let p = reader.temporaryPath(MultipartReader.fileExtension(filename: filename, contentType: contentType))
            fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                failure = .storage("cannot create \(p): \(String(cString: strerror(errno)))")
                skipping = true
                return
            }
            path = p
            form.files[name] = UploadedFile(path: p, filename: filename, contentType: contentType, size: 0)
        } else if filename != nil {
            // A file nobody asked for is read past, not kept.
            skipping = true
        }
    }

    func body(_ buffer: inout ByteBuffer) {
        accept(buffer.readableBytesView)
    }

    /// Body bytes of the current part, from the parser or past it.
    private func accept<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if !started { begin() }
        inBody = true
        if skipping || failure != nil { return }
        size += bytes.count
        if fd >= 0 {
            // The parser hands over the bytes between carriage returns, often a few hundred at
            // a time: they are gathered into large writes.
            pending.append(contentsOf: bytes)
            if pending.count >= Self.writeSize { writeOut() }
        } else {
            if field.count + bytes.count > reader.maxFieldBytes {
                failure = .tooLarge(limit: reader.maxFieldBytes)
                return
            }
            field.append(contentsOf: bytes)
        }
    }

    func complete() {
        inBody = false
        if !started { begin() }
        if fd >= 0 {
            // Not flushed here: a write that stores the file flushes it (while computing the row).
            writeOut()
            close(fd)
            fd = -1
            if let name { form.files[name]?.size = size }
        } else if let name, !skipping {
            form.fields[name] = String(decoding: field, as: UTF8.self)
        }
        headers = []
        started = false
        name = nil
        path = nil
        finished = true
    }

    func flush() throws(MultipartFailure) {
        if let failure { throw failure }
    }

    /// Removes what was written of a request that failed.
    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        form.removeFiles()
    }

    /// `form-data; name="x"; filename="a b.jpg"` → `["name": "x", "filename": "a b.jpg"]`.
    static func parameters(_ header: String) -> [String: String] {
        var out: [String: String] = [:]
        var chars = Substring(header)
        // Skip the disposition type.
        if let semi = chars.firstIndex(of: ";") { chars = chars[chars.index(after: semi)...] } else { return out }
        while !chars.isEmpty {
            while let f = chars.first, f == " " || f == "\t" || f == ";" { chars.removeFirst() }
            guard let eq = chars.firstIndex(of: "=") else { break }
            let key = chars[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            chars = chars[chars.index(after: eq)...]
            var value = ""
            if chars.first == "\"" {
                chars.removeFirst()
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\", let n = chars.first { value.append(n); chars.removeFirst(); continue }
                    if c == "\"" { break }
                    value.append(c)
                }
                if let semi = chars.firstIndex(of: ";") { chars = chars[semi...] } else { chars = "" }
            } else {
                let end = chars.firstIndex(of: ";") ?? chars.endIndex
                value = chars[..<end].trimmingCharacters(in: .whitespaces)
                chars = chars[end...]
            }
            out[key] = value
        }
        return out
    }
}

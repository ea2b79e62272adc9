import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Pixeltable

/// Answers with a file, streamed from disk in chunks: `Content-Type`, `ETag`, `Last-Modified`,
/// conditional requests (304) and single byte ranges (206, 416), so that a browser can seek in
/// a video without the server reading the whole file into memory.
struct FileResponder {
    /// Bytes read per chunk.
    static let chunkSize = 256 * 1024

    /// An open file ready to be answered with.
    final class OpenFile: @unchecked Sendable {
        // Read from one streaming task at a time; closed when the response is done with it.
        let fd: Int32
        let size: Int
        let info: FileInfo

        init?(path: String) {
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            guard let info = FileInfo.of(descriptor: fd), info.isRegular else {
                close(fd)
                return nil
            }
            self.fd = fd
            self.size = info.size
            self.info = info
        }

        deinit { close(fd) }

        /// The path the descriptor really names (after any link swapped in since it was checked).
        var realPath: String? {
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink("/proc/self/fd/\(fd)", &buf, buf.count - 1)
            guard n > 0 else { return nil }
            return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        var etag: String { "\"\(String(size, radix: 16))-\(String(info.modifiedSeconds, radix: 16))\(String(info.modifiedNanoseconds, radix: 16))\"" }
    }

    /// The response for `file` to `request`.
    static func respond(_ file: OpenFile, contentType: String, request: Request, extraHeaders: HTTPFields = [:]) -> Response {
        var h = extraHeaders
        h[.contentType] = contentType
        h[.acceptRanges] = "bytes"
        h[.eTag] = file.etag
        h[.lastModified] = httpDate(file.info.modifiedSeconds)
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        if MediaTypes.isActive(contentType) { h[.contentDisposition] = "attachment" }
        let fields = request.headers
        if let inm = fields[.ifNoneMatch] {
            if inm.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag || $0.trimmingCharacters(in: .whitespaces) == "*" }) {
                return Response(status: .notModified, headers: h)
            }
        } else if let ims = fields[.ifModifiedSince], let since = parseHTTPDate(ims), file.info.modifiedSeconds <= since {
            return Response(status: .notModified, headers: h)
        }
        if request.method == .head {
            h[.contentLength] = String(file.size)
            return Response(status: .ok, headers: h)
        }
        if let range = fields[.range], rangeApplies(fields, file) {
            switch byteRange(range, size: file.size) {
            case .some(.some(let r)):
                h[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(file.size)"
                return Response(status: .partialContent, headers: h, body: body(file, r))
            case .some(.none):
                h[.contentRange] = "bytes */\(file.size)"
                return Response(status: .rangeNotSatisfiable, headers: h)
            case .none:
                break
            }
        }
        return Response(status: .ok, headers: h, body: file.size == 0 ? ResponseBody() : body(file, 0...(file.size - 1)))
    }

    /// `If-Range` (an ETag or a date) lets the range through only when the file is unchanged.
    static func rangeApplies(_ fields: HTTPFields, _ file: OpenFile) -> Bool {
        guard let ifRange = fields[.ifRange] else { return true }
        if ifRange.hasPrefix("\"") || ifRange.hasPrefix("W/") { return ifRange == file.etag }
        if let d = parseHTTPDate(ifRange) { return file.info.modifiedSeconds <= d }
        return false
    }

    /// A single `bytes=` range: `nil` when the header is not one (the whole file is sent),
    /// `.some(nil)` when it cannot be satisfied, else the inclusive byte range.
    static func byteRange(_ header: String, size: Int) -> ClosedRange<Int>?? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = h.dropFirst(6)
        // Several ranges would need a multipart answer; the whole file is a valid answer too.
        guard !spec.contains(",") else { return nil }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let n = Int(parts[1]), n > 0 else { return parts[1].isEmpty ? nil : .some(nil) }
            if size == 0 { return .some(nil) }
            return .some(max(0, size - n)...(size - 1))
        }
        guard let start = Int(parts[0]), start >= 0 else { return nil }
        guard start < size else { return .some(nil) }
        var end = size - 1
        if !parts[1].isEmpty {
            guard let e = Int(parts[1]), e >= start else { return nil }
            end = min(e, size - 1)
        }
        return .some(start...end)
    }

    /// A body streaming `range` of the file in chunks.
    static func body(_ file: OpenFile, _ range: ClosedRange<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            var offset = range.lowerBound
            var buffer = ByteBufferAllocator().buffer(capacity: min(chunkSize, range.count))
            while offset <= range.upperBound {
                let want = min(chunkSize, range.upperBound - offset + 1)
                buffer.clear(minimumCapacity: want)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                    max(0, pread(file.fd, raw.baseAddress, want, off_t(offset)))
                }
                guard n > 0 else { throw FileResponderError.shortRead }
                offset += n
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
    }

    static func httpDate(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%a, %d %b %Y %H:%M:%S GMT", &tmv)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP dates are sent in.
    static func parseHTTPDate(_ s: String) -> Int? {
        let parts = s.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(year - 1900)
        tmv.tm_mon = Int32(month)
        tmv.tm_mday = Int32(day)
        tmv.tm_hour = Int32(hms[0])
        tmv.tm_min = Int32(hms[1])
        tmv.tm_sec = Int32(hms[2])
        return Int(timegm(&tmv))
    }
}

/// The file changed size while it was being sent.
struct FileResponderError: Error {
    static let shortRead = FileResponderError()
}

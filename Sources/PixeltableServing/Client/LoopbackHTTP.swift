import Foundation

/// A small blocking HTTP/1.1 client for loopback servers: the `pxt` client's transport to its
/// daemon. It keeps the CLI free of an async HTTP stack, so a command starts in milliseconds.
public enum LoopbackHTTP {
    /// A whole response.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// Header values by lower-cased name.
        public var headers: [String: String]
        /// The body, chunked encoding removed.
        public var body: [UInt8]

        /// The body as text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Why a request got no response.
    public enum Failure: Error, CustomStringConvertible {
        /// Nothing listens on the port.
        case refused
        /// Connecting or reading failed.
        case io(String)
        /// The answer was not HTTP.
        case malformed(String)

        public var description: String {
            switch self {
            case .refused: return "connection refused"
            case .io(let s): return s
            case .malformed(let s): return "malformed response: \(s)"
            }
        }
    }

    /// Sends one request and reads the whole response.
    public static func request(
        port: Int, method: String, path: String, headers: [String: String] = [:], body: [UInt8] = [], timeout: Double? = nil,
        host: String = "127.0.0.1"
    ) throws(Failure) -> Response {
        var chunks: [UInt8] = []
        let head = try exchange(port: port, method: method, path: path, headers: headers, body: body, timeout: timeout, host: host) { chunks += $0 }
        return Response(status: head.status, headers: head.headers, body: chunks)
    }

    /// Sends one request and hands the body to `onData` as it arrives (chunked bodies decoded).
    public static func exchange(
        port: Int, method: String, path: String, headers: [String: String], body: [UInt8], timeout: Double?, host: String = "127.0.0.1",
        onData: ([UInt8]) -> Void
    ) throws(Failure) -> (status: Int, headers: [String: String]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let timeout {
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            if errno == ECONNREFUSED { throw .refused }
            throw .io("connect: \(String(cString: strerror(errno)))")
        }
        var req = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        req += "\r\n"
        try sendAll(fd, Array(req.utf8) + body)

        var reader = SocketReader(fd: fd)
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw .malformed("bad status line '\(statusLine)'")
        }
        var headers: [String: String] = [:]
        while true {
            let l = try reader.line()
            if l.isEmpty { break }
            guard let colon = l.firstIndex(of: ":") else { throw .malformed("bad header '\(l)'") }
            var value = l[l.index(after: colon)...]
            while value.first == " " || value.first == "\t" { value.removeFirst() }
            while value.last == " " || value.last == "\t" { value.removeLast() }
            headers[l[..<colon].lowercased()] = String(value)
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let sizeLine = try reader.line()
                guard let size = Int(sizeLine.split(separator: ";")[0].filter { $0 != " " && $0 != "\t" }, radix: 16) else {
                    throw .malformed("bad chunk size '\(sizeLine)'")
                }
                if size == 0 { break }
                onData(try reader.bytes(size))
                _ = try reader.line()
            }
        } else if let len = headers["content-length"].flatMap(Int.init) {
            if len > 0 { onData(try reader.bytes(len)) }
        } else {
            onData(try reader.rest())
        }
        return (status, headers)
    }

    private static func sendAll(_ fd: Int32, _ data: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < data.count {
            let n = data.withUnsafeBytes { p in send(fd, p.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw .io("send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    /// Buffered reads from a socket.
    private struct SocketReader {
        let fd: Int32
        var buffer: [UInt8] = []
        var start = 0
        var eof = false

        init(fd: Int32) { self.fd = fd }

        mutating func fill() throws(Failure) {
            if start > 65536 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 65536, 0) }
                if n > 0 {
                    buffer += chunk[0..<n]
                    return
                }
                if n == 0 {
                    eof = true
                    return
                }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .io("timed out waiting for a response") }
                throw .io("recv: \(String(cString: strerror(errno)))")
            }
        }

        mutating func line() throws(Failure) -> String {
            while true {
                if let nl = buffer[start...].firstIndex(of: 0x0A) {
                    var end = nl
                    if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                    let s = String(decoding: buffer[start..<end], as: UTF8.self)
                    start = nl + 1
                    return s
                }
                if eof { throw .malformed("connection closed mid-response") }
                try fill()
            }
        }

        mutating func bytes(_ n: Int) throws(Failure) -> [UInt8] {
            while buffer.count - start < n {
                if eof { throw .malformed("connection closed mid-body") }
                try fill()
            }
            let out = Array(buffer[start..<(start + n)])
            start += n
            return out
        }

        mutating func rest() throws(Failure) -> [UInt8] {
            while !eof { try fill() }
            let out = Array(buffer[start...])
            start = buffer.count
            return out
        }
    }
}

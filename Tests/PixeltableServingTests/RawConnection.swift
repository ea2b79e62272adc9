import Foundation
import Pixeltable
import Synchronization

/// A raw HTTP connection, for what an HTTP client library will not do: pipelined requests, a
/// request sent in parts, a stalled header, half a body, watching for the server's close.
final class RawConnection: Sendable {
    let fd: Int32
    private let pending = Mutex<[UInt8]>([])

    init(port: Int) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            _ = Glibc.close(s)
            throw PixeltableError(.internalError, "connect: \(String(cString: strerror(errno)))")
        }
        fd = s
    }

    /// Sends everything in one call (a small write on loopback arrives in one segment);
    /// `false` once the server has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    private func receiveMore() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        guard n > 0 else { return false }
        pending.withLock { $0 += buffer[0..<n] }
        return true
    }

    /// Reads one response with a Content-Length: its status line, and its body as text.
    func readResponse() -> (status: String, body: String)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            let done: (String, String)? = pending.withLock { buf in
                guard let end = buf.indices.first(where: { buf[$0...].starts(with: separator) }) else { return nil }
                let head = String(decoding: buf[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let kv = line.split(separator: ":", maxSplits: 1)
                    return kv.count == 2 && kv[0].lowercased() == "content-length" ? Int(kv[1].trimmingCharacters(in: .whitespaces)) : nil
                }.first ?? 0
                let bodyStart = end + separator.count
                guard buf.count >= bodyStart + length else { return nil }
                let body = String(decoding: buf[bodyStart..<(bodyStart + length)], as: UTF8.self)
                buf.removeFirst(bodyStart + length)
                return (String(head.split(separator: "\r\n").first ?? ""), body)
            }
            if let done { return done }
            if !receiveMore() { return nil }
        }
    }

    /// Sends text; `false` once the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What arrives within `timeout` seconds (after anything already buffered), and whether
    /// the server closed the connection (end of stream or reset) by then.
    func read(for timeout: Double) -> (bytes: [UInt8], closed: Bool) {
        var out = pending.withLock { b in defer { b = [] }; return b }
        let end = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = end.timeIntervalSinceNow
            if left <= 0 { return (out, false) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32(left * 1000) + 1) <= 0 { continue }
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return (out, true) }
            out += buf[0..<n]
        }
    }

    /// Whether the server closed the connection (after what was already read).
    func isClosedByPeer() -> Bool { !receiveMore() }

    func close() { _ = Glibc.close(fd) }
}

/// Runs blocking socket work on its own thread: blocking one of the two cooperative threads the
/// machine has would starve the server the test talks to.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { c in Thread.detachNewThread { c.resume(returning: body()) } }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Remote media (`http(s)://` cells) fetched on first use into the home's `file_cache/`.
///
/// A cached file is named by the SHA-256 of its URL, so every process sharing the home finds
/// it. Downloads go to a temporary name and are renamed into place when complete, so a reader
/// never sees half a file; concurrent fetches of one URL share one download. The cache is kept
/// under its capacity by removing the least recently used files after each download.
final class RemoteMediaCache: Sendable {
    /// Where cached files live.
    let directory: String
    /// The largest file fetched.
    let maxFileBytes: Int
    /// The most bytes the cache keeps.
    let capacityBytes: Int
    /// How long one download may take.
    let timeout: TimeAmount
    private let inflight = Mutex<[String: EventLoopFuture<String>]>([:])

    init(directory: String, maxFileBytes: Int = 1 << 30, capacityBytes: Int = 10 << 30, timeout: TimeAmount = .seconds(120)) {
        self.directory = directory
        self.maxFileBytes = maxFileBytes
        self.capacityBytes = capacityBytes
        self.timeout = timeout
    }

    /// The cache file for `url`: the hash of the URL plus the extension of its path.
    func cachePath(for url: String) -> String {
        var ext = ""
        if let u = URL(string: url) {
            let e = u.pathExtension.lowercased()
            if !e.isEmpty && e.count <= 8 && e.allSatisfy({ $0.isLetter || $0.isNumber }) { ext = "." + e }
        }
        return directory + "/" + String(SHA256.hex(Array(url.utf8)).prefix(40)) + ext
    }

    /// The local copy of `url`, downloading it if it is not cached.
    func fetch(_ url: String) async throws(MediaFetchError) -> String {
        if let hit = cached(url) { return hit }
        do {
            return try await start(url).get()
        } catch let e as MediaFetchError {
            throw e
        } catch {
            throw MediaFetchError(url: url, message: "\(error)", isRetryable: true)
        }
    }

    /// `fetch` for synchronous callers (expression evaluation). Waits on NIO's threads only, so
    /// it is safe from any thread that is not an event loop.
    func fetchBlocking(_ url: String) throws(MediaFetchError) -> String {
        if let hit = cached(url) { return hit }
        do {
            return try start(url).wait()
        } catch let e as MediaFetchError {
            throw e
        } catch {
            throw MediaFetchError(url: url, message: "\(error)", isRetryable: true)
        }
    }

    private func cached(_ url: String) -> String? {
        let path = cachePath(for: url)
        guard access(path, F_OK) == 0 else { return nil }
        // Mark it used for the least-recently-used eviction.
        _ = utimes(path, nil)
        return path
    }

    private func start(_ url: String) -> EventLoopFuture<String> {
        let client = HTTPClient.shared
        return inflight.withLock { table -> EventLoopFuture<String> in
            if let running = table[url] { return running }
            let future = download(url, client: client)
            table[url] = future
            future.whenComplete { [self] _ in _ = inflight.withLock { $0.removeValue(forKey: url) } }
            return future
        }
    }

    private func download(_ url: String, client: HTTPClient) -> EventLoopFuture<String> {
        let loop = client.eventLoopGroup.next()
        let final = cachePath(for: url)
        let part = directory + "/.part-" + UUID().uuidString
        let request: HTTPClient.Request
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            request = try HTTPClient.Request(url: url, method: .GET, headers: ["User-Agent": "pxt"])
        } catch {
            return loop.makeFailedFuture(MediaFetchError(url: url, message: "invalid URL (\(error))", isRetryable: false))
        }
        let delegate = DownloadDelegate(url: url, path: part, limit: maxFileBytes)
        let task = client.execute(request: request, delegate: delegate, deadline: .now() + timeout)
        return task.futureResult.flatMapThrowing { _ -> String in
            guard rename(part, final) == 0 else {
                unlink(part)
                throw MediaFetchError(url: url, message: "cannot store the download in \(self.directory): \(String(cString: strerror(errno)))", isRetryable: false)
            }
            self.evict(keeping: final)
            return final
        }.flatMapErrorThrowing { error in
            unlink(part)
            if let e = error as? MediaFetchError { throw e }
            if let e = error as? HTTPClientError, e == .deadlineExceeded {
                throw MediaFetchError(url: url, message: "timed out after \(self.timeout.nanoseconds / 1_000_000_000) s", isRetryable: true)
            }
            throw MediaFetchError(url: url, message: "\(error)", isRetryable: true)
        }
    }

    /// Removes the least recently used files until the cache fits its capacity.
    func evict(keeping kept: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var files: [(path: String, used: Double, size: Int)] = []
        var total = 0
        for n in names where !n.hasPrefix(".part-") {
            let p = directory + "/" + n
            guard let info = FileInfo.of(path: p), info.isRegular else { continue }
            total += info.size
            files.append((p, info.modified, info.size))
        }
        guard total > capacityBytes else { return }
        for f in files.sorted(by: { $0.used < $1.used }) where f.path != kept {
            if unlink(f.path) == 0 { total -= f.size }
            if total <= capacityBytes { break }
        }
    }
}

/// A failed download of remote media.
struct MediaFetchError: Error, Sendable, CustomStringConvertible {
    var url: String
    var message: String
    /// Whether trying again later may work (network trouble, a server error).
    var isRetryable: Bool

    var description: String { "cannot fetch \(url): \(message)" }
}

/// Streams a response body into a file, failing on an error status or a body over the limit.
private final class DownloadDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Int
    // All callbacks of one task run on its event loop, one at a time.
    let url: String
    let path: String
    let limit: Int
    private var fd: Int32 = -1
    private var received = 0

    init(url: String, path: String, limit: Int) {
        self.url = url
        self.path = path
        self.limit = limit
    }

    deinit { if fd >= 0 { close(fd) } }

    func didReceiveHead(task: HTTPClient.Task<Int>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let loop = task.eventLoop
        guard (200..<300).contains(Int(head.status.code)) else {
            return loop.makeFailedFuture(
                MediaFetchError(url: url, message: "the server answered \(head.status.code) \(head.status.reasonPhrase)", isRetryable: head.status.code >= 500 || head.status.code == 429))
        }
        if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
            return loop.makeFailedFuture(MediaFetchError(url: url, message: "the file is \(length) bytes, over the \(limit)-byte limit", isRetryable: false))
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            return loop.makeFailedFuture(MediaFetchError(url: url, message: "cannot write \(path): \(String(cString: strerror(errno)))", isRetryable: false))
        }
        return loop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Int>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let loop = task.eventLoop
        received += buffer.readableBytes
        guard received <= limit else {
            return loop.makeFailedFuture(MediaFetchError(url: url, message: "the file is over the \(limit)-byte limit", isRetryable: false))
        }
        let ok = buffer.withUnsafeReadableBytes { FileDescriptor.writeAll(fd, $0) }
        return ok ? loop.makeSucceededVoidFuture() : loop.makeFailedFuture(MediaFetchError(url: url, message: "cannot write \(path): \(String(cString: strerror(errno)))", isRetryable: false))
    }

    func didReceiveError(task: HTTPClient.Task<Int>, _ error: any Error) {}

    func didFinishRequest(task: HTTPClient.Task<Int>) throws -> Int {
        if fd < 0 { fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        guard fd >= 0, fsync(fd) == 0 else { throw MediaFetchError(url: url, message: "cannot write \(path)", isRetryable: false) }
        close(fd)
        fd = -1
        return received
    }
}

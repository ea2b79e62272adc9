import Foundation
import GRDB
import Pixeltable
import PixeltableServing
import Synchronization
import Testing

// The harness of the black-box `pxt serve` tests: the built binary, a temporary home, real
// processes, signals and sockets.

/// The built `pxt` binary next to the test bundle (or `$PXT_BINARY`).
let pxtPath: String = {
    if let p = ProcessInfo.processInfo.environment["PXT_BINARY"] { return p }
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir.appendingPathComponent("pxt"), dir.deletingLastPathComponent().appendingPathComponent("pxt")] {
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
    }
    return dir.appendingPathComponent("pxt").path
}()

/// The repository's `examples/quickstart`.
let quickstartDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/quickstart").path
/// The image service example.
let imagesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/images").path

/// The semantic search example.
let searchDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/search").path
/// Whether all-MiniLM-L6-v2 is installed (scripts/fetch-models.sh; .ci/run runs it).
let miniLMInstalled = (try? ModelLocator(home: HomeDirectory(path: NSTemporaryDirectory() + "pxt-no-home")).locate("sentence-transformers/all-MiniLM-L6-v2")) != nil

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(within seconds: Double = 60, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// A running `pxt` process whose output is collected as it comes.
final class PxtProcess: Sendable {
    private let process: Process
    private let output = Mutex<(out: [UInt8], err: [UInt8], closed: Int)>(([], [], 0))

    /// Starts `pxt args…` in `directory` with `environment`.
    init(_ args: [String], directory: String, environment: [String: String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: pxtPath)
        p.arguments = args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = FileHandle.nullDevice
        process = p
        try p.run()
        for (handle, isOut) in [(outPipe.fileHandleForReading, true), (errPipe.fileHandleForReading, false)] {
            Thread.detachNewThread { [self] in
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    self.output.withLock {
                        if isOut { $0.out += data } else { $0.err += data }
                    }
                }
                self.output.withLock { $0.closed += 1 }
            }
        }
    }

    var stdout: String { output.withLock { String(decoding: $0.out, as: UTF8.self) } }
    var stderr: String { output.withLock { String(decoding: $0.err, as: UTF8.self) } }
    var pid: Int32 { process.processIdentifier }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits until stdout has `lines` complete lines.
    func waitForStdout(lines: Int, within seconds: Double = 90) async -> Bool {
        await eventually(within: seconds) { stdout.filter { $0 == "\n" }.count >= lines || !process.isRunning }
            && stdout.filter { $0 == "\n" }.count >= lines
    }

    /// Waits for the exit and the end of both streams; the exit status, or `nil` (after
    /// killing the process) when it does not exit in time.
    func waitForExit(within seconds: Double = 90) async -> Int32? {
        let exited = await eventually(within: seconds) { !process.isRunning && output.withLock { $0.closed == 2 } }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }
}

/// What a finished `pxt` run printed.
struct Finished: CustomStringConvertible {
    var code: Int32?
    var out: String
    var err: String
    var description: String { "exit \(code.map(String.init) ?? "-"); stdout:\n\(out)\nstderr:\n\(err)" }
}

/// A temporary home, a copy of the quickstart, and a way to run `pxt` there.
struct ServeEnv {
    let root = NSTemporaryDirectory() + "pxt-serve-" + UUID().uuidString
    var home: String { root + "/home" }
    var quickstart: String { root + "/quickstart" }
    var images: String { root + "/images" }
    var search: String { root + "/search" }

    init() throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: quickstartDirectory, toPath: quickstart)
        try FileManager.default.copyItem(atPath: imagesDirectory, toPath: images)
        try FileManager.default.copyItem(atPath: searchDirectory, toPath: search)
    }

    /// Variables added to the servers' environment (secrets a service file names).
    var extraEnvironment: [String: String] = [:]

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("PIXELTABLE_") || k == "PXT_PORT" { env[k] = nil }
        env["PIXELTABLE_HOME"] = home
        env.merge(extraEnvironment) { $1 }
        return env
    }

    func start(_ args: [String], in directory: String? = nil) throws -> PxtProcess {
        try PxtProcess(["serve"] + args, directory: directory ?? quickstart, environment: environment)
    }

    /// Runs `pxt serve args…` to completion.
    func run(_ args: [String], in directory: String? = nil) async throws -> Finished {
        let p = try start(args, in: directory)
        let code = await p.waitForExit()
        return Finished(code: code, out: p.stdout, err: p.stderr)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = root + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Starts `pxt serve args…` and waits for its startup lines; the process and its port, or
    /// `nil` (the failure recorded) when it did not come up.
    func serve(_ args: [String], in directory: String? = nil) async throws -> (PxtProcess, Int)? {
        let p = try start(args, in: directory)
        guard await p.waitForStdout(lines: 5), let port = listeningPort(p.stdout) else {
            p.signal(SIGKILL)
            Issue.record("no startup lines: \(p.stdout) \(p.stderr)")
            return nil
        }
        return (p, port)
    }
}

func withServeEnv(_ body: (ServeEnv) async throws -> Void) async throws {
    let env = try ServeEnv()
    defer { env.remove() }
    try await body(env)
}

/// A socket listening on 127.0.0.1 on a port the system chose.
final class OccupiedPort: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let bound = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(s, 8) == 0 else {
            _ = Glibc.close(s)
            throw PixeltableError(.internalError, "cannot listen: \(String(cString: strerror(errno)))")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}


/// The port in `Listening on http://host:PORT`.
func listeningPort(_ text: String) -> Int? {
    guard let line = text.split(separator: "\n").first(where: { $0.contains("Listening on http://") }), let colon = line.lastIndex(of: ":") else { return nil }
    return Int(line[line.index(after: colon)...])
}

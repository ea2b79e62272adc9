import Foundation
import Synchronization
import Testing

/// The built `pxt` binary: next to the test bundle, or `$PXT_BINARY`.
let pxtBinary: String = {
    if let p = ProcessInfo.processInfo.environment["PXT_BINARY"] { return p }
    let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [dir.appendingPathComponent("pxt"), dir.deletingLastPathComponent().appendingPathComponent("pxt")] {
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
    }
    return dir.appendingPathComponent("pxt").path
}()

/// The repository's root (for the examples).
let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A free TCP port on loopback.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    _ = withUnsafePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Bytes read by another thread (the group's wait orders the accesses).
final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// What a `pxt` run printed and returned.
struct Outcome {
    var code: Int32
    var out: String
    var err: String

    /// Standard output parsed as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(out.utf8), options: [.fragmentsAllowed]) }
}

/// A temporary home, a random daemon port, and a way to run `pxt` against them.
final class CLIEnv: @unchecked Sendable {
    let home: String
    let port: Int
    let workDir: String
    var extraEnv: [String: String] = [:]

    init() {
        home = NSTemporaryDirectory() + "pxt-cli-" + UUID().uuidString
        workDir = home + "-work"
        port = freePort()
        try? FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("PIXELTABLE_") || k == "PXT_PORT" { env[k] = nil }
        env["PIXELTABLE_HOME"] = home
        env["PXT_PORT"] = String(port)
        for (k, v) in extraEnv { env[k] = v }
        return env
    }

    /// Runs `pxt args…` to completion.
    @discardableResult
    func run(_ args: [String], stdin: String? = nil, cwd: String? = nil, timeout: Double = 120) -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: pxtBinary)
        p.arguments = args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? workDir)
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = inPipe
        do { try p.run() } catch { return Outcome(code: -1, out: "", err: "\(error)") }
        // A command that hangs fails its test instead of the whole run: stop it after `timeout`.
        let pid = p.processIdentifier
        let finished = Mutex(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if !finished.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        defer { finished.withLock { $0 = true } }
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes while the process runs so that neither fills up.
        let outBox = DataBox(), errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread { outBox.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        Thread.detachNewThread { errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        p.waitUntilExit()
        group.wait()
        return Outcome(code: p.terminationStatus, out: String(decoding: outBox.data, as: UTF8.self), err: String(decoding: errBox.data, as: UTF8.self))
    }

    /// `run` with a string split on spaces (no quoting), for short commands.
    @discardableResult
    func pxt(_ line: String, stdin: String? = nil) -> Outcome {
        run(line.split(separator: " ").map(String.init), stdin: stdin)
    }

    /// Writes a file in the work directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = workDir + "/" + name
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Stops the daemon and removes the home.
    func tearDown() {
        run(["daemon", "stop", "-f"])
        try? FileManager.default.removeItem(atPath: home)
        try? FileManager.default.removeItem(atPath: workDir)
    }
}

/// Runs `body` with a fresh environment, tearing it down afterwards.
func withCLI(_ body: (CLIEnv) throws -> Void) rethrows {
    let env = CLIEnv()
    defer { env.tearDown() }
    try body(env)
}

/// A small module file used by several tests.
let filmsModule = """
    [[dir]]
    path = "demo"

    [[table]]
    path = "demo/films"
    primary_key = ["id"]
    comment = "Films"

    [table.columns]
    id = "Int"
    title = { type = "Required[String]", comment = "Film title" }
    year = "Int"
    rating = "Float"

    [[table.computed]]
    name = "title_upper"
    expr = "title.upper()"

    [[table.computed]]
    name = "per_year"
    expr = "rating / (year - 1979)"
    on_error = "ignore"

    [[table.index]]
    column = "year"

    [[query]]
    name = "by_year"
    table = "demo/films"
    params = { year = "Int", k = { type = "Int", default = 10 } }
    select = ["id", "title", "title_upper as shout"]
    where = "year == :year"
    order_by = ["id"]
    limit = ":k"

    [[query]]
    name = "lookup"
    table = "demo/films"
    retrieval = ["id"]
    """

let filmsRows = """
    {"id": 1, "title": "Alien", "year": 1979, "rating": 8.5}
    {"id": 2, "title": "Brazil", "year": 1985, "rating": 7.9}
    {"id": 3, "title": "Blade Runner", "year": 1982, "rating": 8.1}

    """

/// Applies `filmsModule` and inserts `filmsRows`.
func seedFilms(_ env: CLIEnv) {
    let file = env.write("demo.toml", filmsModule)
    let u = env.run(["schema", "update", file])
    #expect(u.code == 0, "schema update: \(u.err)")
    let i = env.run(["insert", "demo/films", "-"], stdin: filmsRows)
    #expect(i.code == 0, "insert: \(i.err)")
}

// MARK: - Helpers for the command tests

extension Outcome {
    /// Standard output's lines, without the empty one after the final newline.
    var lines: [String] {
        var l = out.components(separatedBy: "\n")
        if l.last == "" { l.removeLast() }
        return l
    }

    /// Standard output as a JSON object (empty when it is not one).
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }

    /// Standard output as a JSON array of objects (empty when it is not one).
    var objects: [[String: Any]] { (json as? [[String: Any]]) ?? [] }

    /// Both streams, for failure messages.
    var transcript: String { "exit \(code)\n--- stdout ---\n\(out)\n--- stderr ---\n\(err)" }
}

/// Whether a JSON value decoded by `JSONSerialization` is `null`.
func isJSONNull(_ v: Any?) -> Bool { v is NSNull }

/// An integer from a JSON value decoded by `JSONSerialization`.
func jsonInt(_ v: Any?) -> Int? { (v as? NSNumber)?.intValue }

/// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
@discardableResult
func waitUntil(timeout: Double = 60, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// Whether `pid` names a running process (a zombie does not count).
func processIsRunning(_ pid: Int32) -> Bool {
    guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// A `pxt` process started in the background; `wait()` collects what it printed.
final class RunningPxt: @unchecked Sendable {
    let process = Process()
    private let outBox = DataBox(), errBox = DataBox()
    private let group = DispatchGroup()
    private var failure: String?

    init(env: CLIEnv, args: [String], stdin: String?) {
        process.executableURL = URL(fileURLWithPath: pxtBinary)
        process.arguments = args
        process.environment = env.environment
        process.currentDirectoryURL = URL(fileURLWithPath: env.workDir)
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        do { try process.run() } catch {
            failure = "\(error)"
            return
        }
        let outBox = self.outBox, errBox = self.errBox
        group.enter()
        Thread.detachNewThread { [group] in outBox.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        Thread.detachNewThread { [group] in errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()
    }

    /// Waits for the process to end and returns its outcome.
    func wait() -> Outcome {
        if let failure { return Outcome(code: -1, out: "", err: failure) }
        process.waitUntilExit()
        group.wait()
        return Outcome(code: process.terminationStatus, out: String(decoding: outBox.data, as: UTF8.self), err: String(decoding: errBox.data, as: UTF8.self))
    }
}

/// `pxt _insert-stream PATH START COUNT` as a child process whose `ack <id>` lines are read as
/// they arrive.
final class AckStream: @unchecked Sendable {
    let process = Process()
    private let outPipe = Pipe(), errPipe = Pipe()
    private var buffer = Data()
    private let errBox = DataBox()
    private let errDone = DispatchGroup()
    private(set) var started = false

    init(env: CLIEnv, path: String, start: Int, count: Int) {
        process.executableURL = URL(fileURLWithPath: pxtBinary)
        process.arguments = ["_insert-stream", path, String(start), String(count)]
        process.environment = env.environment
        process.currentDirectoryURL = URL(fileURLWithPath: env.workDir)
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return }
        started = true
        let box = errBox, pipe = errPipe
        errDone.enter()
        Thread.detachNewThread { [errDone] in box.data = pipe.fileHandleForReading.readDataToEndOfFile(); errDone.leave() }
    }

    /// The ids acknowledged so far (complete lines only).
    var acked: [Int] {
        let text = String(decoding: buffer, as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        lines.removeLast()  // an incomplete line, or the empty string after the last newline
        return lines.compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }
    }

    /// Reads standard output until `n` acknowledgements arrived, the stream ended, or `timeout`
    /// seconds passed (then the process is killed, which ends the stream).
    func readAcks(atLeast n: Int, timeout: Double = 120) {
        guard started else { return }
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        let handle = outPipe.fileHandleForReading
        while acked.count < n {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
    }

    /// Sends SIGKILL.
    func kill9() {
        guard started else { return }
        kill(process.processIdentifier, SIGKILL)
    }

    /// Reads the rest of standard output, waits for the end, and returns the exit status and
    /// standard error.
    @discardableResult
    func finish() -> (code: Int32, reason: Process.TerminationReason, err: String) {
        guard started else { return (-1, .exit, "could not start \(pxtBinary)") }
        buffer.append(outPipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        errDone.wait()
        return (process.terminationStatus, process.terminationReason, String(decoding: errBox.data, as: UTF8.self))
    }
}

/// An HTTP answer read from a raw socket.
struct RawReply {
    var status: Int
    var head: String
    var body: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
}

/// A TCP socket connected to 127.0.0.1:`port`, or `nil`.
func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    let connected = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Sends one HTTP/1.1 request to 127.0.0.1:`port` over a plain socket and reads the answer
/// until the server closes the connection; `nil` when nothing could be read.
func rawHTTP(port: Int, method: String = "GET", path: String, headers: [String: String] = [:], body: String? = nil) -> RawReply? {
    guard let fd = connectLoopback(port: port) else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let payload = Array((body ?? "").utf8)
    var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (k, v) in headers { request += "\(k): \(v)\r\n" }
    if body != nil { request += "Content-Length: \(payload.count)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8) + payload
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return nil }
        sent += n
    }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += chunk[0..<n]
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return nil }
    let head = String(text[..<split.lowerBound])
    let statusWords = head.split(separator: "\r\n").first?.split(separator: " ") ?? []
    guard statusWords.count >= 2, let status = Int(statusWords[1]) else { return nil }
    return RawReply(status: status, head: head, body: String(text[split.upperBound...]))
}

extension CLIEnv {
    /// Starts `pxt args…` without waiting for it.
    func start(_ args: [String], stdin: String? = nil) -> RunningPxt {
        RunningPxt(env: self, args: args, stdin: stdin)
    }

    /// The per-home secret the daemon requires (created by the first command).
    var secret: String {
        ((try? String(contentsOfFile: home + "/pxt-daemon.secret", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A request to this environment's daemon carrying the secret, as the client sends it.
    func api(_ method: String = "GET", _ path: String, body: String? = nil) -> RawReply? {
        var headers = ["Authorization": "Bearer \(secret)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return rawHTTP(port: port, method: method, path: path, headers: headers, body: body)
    }

    /// The running daemon's pid, from `pxt health` (which starts it if needed).
    func daemonPID() -> Int32? {
        let h = run(["health"])
        return jsonInt(h.object["pid"]).map { Int32($0) }
    }

    /// Applies a module file given as text; returns the outcome of `pxt schema update`.
    @discardableResult
    func apply(_ name: String, _ module: String) -> Outcome {
        let r = run(["schema", "update", write(name, module)])
        #expect(r.code == 0, "schema update \(name): \(r.transcript)")
        return r
    }
}

/// A table with an integer key and a note: the shape `pxt _insert-stream` writes.
let notesModule = """
    [[table]]
    path = "notes"
    primary_key = ["id"]

    [table.columns]
    id = "Int"
    note = "String"
    """

/// JSON lines for `notes` rows with ids in `ids`.
func noteRows(_ ids: some Sequence<Int>) -> String {
    ids.map { "{\"id\": \($0), \"note\": \"note \($0)\"}\n" }.joined()
}

extension CLIEnv {
    /// Runs `pxt args…` with a pseudo-terminal as standard input, `input` typed into it (for the
    /// confirmation prompts); standard output and error are pipes.
    func runWithTTY(_ args: [String], input: String) -> Outcome {
        // glibc hides the pseudo-terminal calls behind _XOPEN_SOURCE, so Swift does not import
        // them; look them up at run time instead.
        typealias IntCall = @convention(c) (Int32) -> Int32
        typealias NameCall = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
        let libc = dlopen(nil, RTLD_NOW)
        func symbol<T>(_ name: String, _: T.Type) -> T? { dlsym(libc, name).map { unsafeBitCast($0, to: T.self) } }
        guard let openpt = symbol("posix_openpt", IntCall.self), let grantpt = symbol("grantpt", IntCall.self),
            let unlockpt = symbol("unlockpt", IntCall.self), let ptsname = symbol("ptsname", NameCall.self)
        else { return Outcome(code: -1, out: "", err: "no pseudo-terminal calls") }
        let master = openpt(O_RDWR | O_NOCTTY)
        guard master >= 0, grantpt(master) == 0, unlockpt(master) == 0, let name = ptsname(master) else {
            return Outcome(code: -1, out: "", err: "no pseudo-terminal")
        }
        defer { close(master) }
        let slave = open(String(cString: name), O_RDWR | O_NOCTTY)
        guard slave >= 0 else { return Outcome(code: -1, out: "", err: "cannot open \(String(cString: name))") }
        // No echo: nothing the child does not write itself comes back on the master side.
        var modes = termios()
        if tcgetattr(slave, &modes) == 0 {
            modes.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(slave, TCSANOW, &modes)
        }
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: pxtBinary)
        p.arguments = args
        p.environment = environment
        p.currentDirectoryURL = URL(fileURLWithPath: workDir)
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = terminal
        do { try p.run() } catch { return Outcome(code: -1, out: "", err: "\(error)") }
        try? terminal.close()
        // A prompt that waits for input nobody types must not hang the test run.
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        defer { watchdog.cancel() }
        // Then end-of-file (^D at the start of a line), so that a child waiting for more input
        // than was typed sees the end instead of waiting forever.
        let bytes = Array(input.utf8) + (input.isEmpty || input.hasSuffix("\n") ? [0x04] : [0x0A, 0x04])
        _ = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
        let outBox = DataBox(), errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread { outBox.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        Thread.detachNewThread { errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        p.waitUntilExit()
        group.wait()
        return Outcome(code: p.terminationStatus, out: String(decoding: outBox.data, as: UTF8.self), err: String(decoding: errBox.data, as: UTF8.self))
    }
}

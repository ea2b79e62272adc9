import Foundation
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

import Foundation
import Pixeltable

/// Where a command writes and reads, and how it reaches the daemon.
final class CommandContext: @unchecked Sendable {
    // Only used from the thread running the command; not shared.
    let environment: [String: String]
    let home: HomeDirectory
    var inShell = false
    private var cachedClient: DaemonClient?

    init(environment: [String: String] = FastIO.environment) {
        self.environment = environment
        home = HomeDirectory(environment: environment)
    }

    /// The daemon client for this home and port.
    func client() throws -> DaemonClient {
        if let c = cachedClient { return c }
        let c = DaemonClient(paths: DaemonPaths(home: home, port: try DaemonPaths.port(environment: environment)), environment: environment)
        cachedClient = c
        return c
    }

    /// Writes to standard output.
    func out(_ s: String, terminator: String = "\n") {
        Console.write(s + terminator, fd: 1)
    }

    /// Writes to standard error.
    func err(_ s: String, terminator: String = "\n") {
        Console.write(s + terminator, fd: 2)
    }

    /// Prints JSON as `json.dumps(indent=2)`.
    func outJSON(_ v: JSONValue) {
        out(JSONWriter(style: .pretty(indent: 2), asciiOnly: true).string(v))
    }

    var stdinIsTTY: Bool { isatty(0) == 1 }
    var stderrIsTTY: Bool { isatty(2) == 1 }

    /// Asks for confirmation on a terminal; refuses without one unless `force`.
    ///
    /// - Throws: An exit with `refusedExit` when refused or answered anything but y/yes.
    func confirm(_ prompt: String, force: Bool, refusedExit: Int32 = 2) throws {
        if force { return }
        guard stdinIsTTY else {
            err("pxt: refusing to proceed without --force/-f (no TTY for confirmation): \(prompt)")
            throw CommandExit(refusedExit)
        }
        err("\(prompt) [y/N] ", terminator: "")
        let answer = readLine()?.trimmedASCII.lowercased() ?? ""
        guard answer == "y" || answer == "yes" else {
            err("aborted")
            throw CommandExit(refusedExit)
        }
    }
}

/// Ends a command with an exit status (its message, if any, already printed).
struct CommandExit: Error {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}

/// Unbuffered output straight to a file descriptor, so the order of stdout and stderr lines is
/// the order they were written in, and nothing is lost when the process exits.
enum Console {
    static func write(_ s: String, fd: Int32) {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return
            }
            off += n
        }
        bytes.removeAll()
    }
}

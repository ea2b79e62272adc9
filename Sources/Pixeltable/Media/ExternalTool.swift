import Foundation

/// A command-line program the engine runs for media it does not decode itself: `ffprobe` and
/// `ffmpeg` for video and audio, `pdftotext` for PDF documents.
///
/// Each run is a subprocess with stdin from `/dev/null`, its output read through pipes, a
/// deadline after which it is killed, and a cap on how much output is kept. Every failure is a
/// ``FunctionError``, so that a computed cell stores it (or an insert reports it) instead of the
/// process stopping: a missing program names the package that provides it.
struct ExternalTool: Sendable {
    /// The program's name, looked up on `PATH`.
    let name: String
    /// The Debian package that provides it, for the install hint.
    let package: String

    static let ffmpeg = ExternalTool(name: "ffmpeg", package: "ffmpeg")
    static let ffprobe = ExternalTool(name: "ffprobe", package: "ffmpeg")
    static let pdftotext = ExternalTool(name: "pdftotext", package: "poppler-utils")
    static let pdfinfo = ExternalTool(name: "pdfinfo", package: "poppler-utils")

    /// What a finished run produced.
    struct Output: Sendable {
        var stdout: [UInt8]
        var stderr: String
        var status: Int32
    }

    /// The program's absolute path on `path` (a `PATH` value), or `nil` when it is not installed.
    func locate(path: String?) -> String? {
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The error a call reports when the program is not installed.
    var missingError: FunctionError {
        FunctionError(
            "RuntimeError",
            "\(name) is not installed; install the '\(package)' package (apt-get install \(package), or run scripts/install-deps.sh)")
    }

    /// Runs the program and waits for it.
    ///
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - environment: The caller's environment: its `PATH` finds the program.
    ///   - timeout: Seconds after which the program is killed and the call fails.
    ///   - maxOutput: Bytes of standard output kept; more fails the call (a hostile file must not
    ///     exhaust memory).
    ///   - maxLog: Bytes of standard error kept (later output is dropped).
    ///   - check: Whether a non-zero exit status is an error (with the program's last message).
    /// - Throws: ``FunctionError`` when the program is missing, times out, produces too much
    ///   output, or (with `check`) fails.
    func run(
        _ arguments: [String], environment: [String: String], timeout: TimeInterval = 600, maxOutput: Int = 256 << 20, maxLog: Int = 1 << 20, check: Bool = true
    ) throws(FunctionError) -> Output {
        guard let binary = locate(path: environment["PATH"]) else { throw missingError }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard Self.pipe(&outPipe) else { throw FunctionError("OSError", "cannot run \(name): \(String(cString: strerror(errno)))") }
        guard Self.pipe(&errPipe) else {
            close(outPipe[0]); close(outPipe[1])
            throw FunctionError("OSError", "cannot run \(name): \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw FunctionError("OSError", "cannot run \(binary): \(String(cString: strerror(rc)))")
        }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open = [outPipe[0], errPipe[0]]
        let deadline = Date().addingTimeInterval(timeout)
        var failure: FunctionError? = nil
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !open.isEmpty {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                failure = FunctionError("TimeoutError", "\(name) did not finish within \(Int(timeout)) s")
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let n = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000) + 1)
            if n < 0 && errno != EINTR { break }
            for p in fds where p.revents != 0 {
                let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if got <= 0 {
                    close(p.fd)
                    open.removeAll { $0 == p.fd }
                } else if p.fd == outPipe[0] {
                    stdout.append(contentsOf: buffer[0..<got])
                } else if stderr.count < maxLog {
                    stderr.append(contentsOf: buffer[0..<got])
                }
            }
            if stdout.count > maxOutput {
                failure = FunctionError("RuntimeError", "\(name) produced more than \(maxOutput >> 20) MiB of output")
                break
            }
        }
        if failure != nil { kill(pid, SIGKILL) }
        for fd in open { close(fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let failure { throw failure }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let message = String(decoding: stderr, as: UTF8.self)
        if check && code != 0 {
            throw FunctionError("RuntimeError", "\(name) failed (exit status \(code)): \(Self.lastLines(message))")
        }
        return Output(stdout: stdout, stderr: message, status: code)
    }

    /// A pipe whose ends are closed in other children (Glibc's module does not export
    /// `pipe2`; a child spawned between the two calls may inherit an end briefly, which only
    /// delays that child's EOF until it exits).
    private static func pipe(_ fds: inout [Int32]) -> Bool {
        guard Glibc.pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// The last meaningful lines of a tool's log, for messages.
    static func lastLines(_ log: String, count: Int = 2) -> String {
        let lines = log.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let tail = lines.suffix(count).joined(separator: "; ")
        return tail.isEmpty ? "no message" : String(tail.prefix(500))
    }
}

import Foundation

/// Process helpers for managing the daemon: liveness, ownership, killing, detached spawning.
enum ProcessTools {
    /// Whether a process with this pid exists (a permission error still means it exists).
    static func isAlive(_ pid: Int32) -> Bool {
        if pid <= 0 { return false }
        if kill(pid, 0) == 0 { return true }
        return errno == EPERM
    }

    /// The command line of a process, from `/proc`.
    static func commandLine(_ pid: Int32) -> [String]? {
        guard let bytes = FastIO.read("/proc/\(pid)/cmdline"), !bytes.isEmpty else { return nil }
        let data = Data(bytes)
        return data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty }
    }

    /// Whether `pid` runs `pxt daemon run`. A process whose command line cannot be read is never
    /// taken for a daemon, so an unrelated process is never killed.
    static func isPxtDaemon(_ pid: Int32) -> Bool {
        guard let args = commandLine(pid), args.count >= 3 else { return false }
        let name = (args[0] as NSString).lastPathComponent
        return name.hasPrefix("pxt") && args[1] == "daemon" && args[2] == "run"
    }

    /// SIGTERM, then SIGKILL if still alive after `timeout` seconds; waits until it is gone.
    static func killAndWait(_ pid: Int32, timeout: Double = 5) {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive(pid) && !isZombie(pid) && Date() < deadline { usleep(20_000) }
        if isAlive(pid) && !isZombie(pid) {
            kill(pid, SIGKILL)
            let hard = Date().addingTimeInterval(5)
            while isAlive(pid) && !isZombie(pid) && Date() < hard { usleep(10_000) }
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let bytes = FastIO.read("/proc/\(pid)/stat"), case let s = String(decoding: bytes, as: UTF8.self),
            let close = s.lastIndex(of: ")")
        else { return false }
        let rest = s[s.index(after: close)...].trimmedASCII
        return rest.hasPrefix("Z")
    }

    /// A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
    static func startTime(_ pid: Int32) -> UInt64? {
        guard let bytes = FastIO.read("/proc/\(pid)/stat"), case let s = String(decoding: bytes, as: UTF8.self),
            let close = s.lastIndex(of: ")")
        else { return nil }
        let fields = s[s.index(after: close)...].split(separator: " ")
        // Fields after the command name start at field 3.
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// This process's open file descriptors, from `/proc/self/fd`.
    static func openDescriptors() -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        return names.compactMap { Int32($0) }.sorted()
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `binary` in a new session with stdin from /dev/null and output appended to `logFile`.
    static func spawnDetached(_ binary: String, arguments: [String], environment: [String: String], logFile: String, directory: String) throws {
        let logFD = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { throw SpawnError(description: String(cString: strerror(errno))) }
        defer { close(logFD) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        // The daemon keeps only 0, 1 and 2 (as Python's close_fds=True does): any other
        // descriptor we inherited (a caller's pipe or socket) would otherwise stay open for
        // the daemon's lifetime, and whoever waits for it to close would wait forever.
        // glibc ignores EBADF here for a descriptor closed since we listed it.
        for fd in openDescriptors() where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // glibc's POSIX_SPAWN_SETSID (0x80), hidden behind _GNU_SOURCE in the C headers: the
        // daemon gets its own session, so a terminal's hangup does not reach it.
        posix_spawnattr_setflags(&attr, 0x80)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = directory.withCString { _ in posix_spawn(&pid, binary, &actions, &attr, argv, envp) }
        guard rc == 0 else { throw SpawnError(description: String(cString: strerror(rc))) }
        // The daemon outlives us; reap it if it exits while we are still running.
        let child = pid
        Thread.detachNewThread {
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
    }
}

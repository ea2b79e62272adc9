import Foundation
import Pixeltable

/// `health`, `daemon`, `dashboard`, `cd`, `pwd`, `shell`.
enum LifecycleCommands {
    static let navigation: [PxtCommand] = [cd, pwd]
    static let interactive: [PxtCommand] = [shell]
    static let lifecycle: [PxtCommand] = [daemon, dashboard, health]

    static let health = PxtCommand(
        spec: CommandSpec(name: "health", summary: "Start the daemon if needed and print its health report (JSON).", examples: ["pxt health"]),
        category: "Lifecycle"
    ) { _, ctx in
        let r = try ctx.client().call("GET", "/api/health")
        ctx.outJSON(r)
        return 0
    }

    static let dashboard = PxtCommand(
        spec: CommandSpec(name: "dashboard", summary: "Print the URL of the dashboard the daemon serves.", examples: ["pxt dashboard"]),
        category: "Lifecycle"
    ) { _, ctx in
        let client = try ctx.client()
        try client.ensureRunning()
        ctx.out("\(client.paths.baseURL)/?token=\(try client.paths.secret())")
        return 0
    }

    static let cd = PxtCommand(
        spec: CommandSpec(
            name: "cd", summary: "Set this terminal's working directory in the catalog (no argument clears it).",
            positionals: [.init(name: "uri", help: "directory", optional: true)], examples: ["pxt cd my_dir", "pxt cd ..", "pxt cd"]),
        category: "Navigation"
    ) { args, ctx in
        let target = args.positional("uri") ?? "/"
        try PxtCommandLine.checkPath(target)
        let r = try ctx.client().call("POST", "/api/cwd", body: ["uri": .string(target)])
        if let uri = r["uri"]?.stringValue { ctx.out("working directory: \(PathShape.display(uri))") } else { ctx.out("working directory cleared") }
        return 0
    }

    static let pwd = PxtCommand(
        spec: CommandSpec(name: "pwd", summary: "Print this terminal's working directory in the catalog.", examples: ["pxt pwd"]),
        category: "Navigation"
    ) { _, ctx in
        let r = try ctx.client().call("GET", "/api/cwd")
        if let uri = r["uri"]?.stringValue { ctx.out(PathShape.display(uri)) } else { ctx.out("(no working directory)") }
        return 0
    }

    // MARK: daemon

    static let daemon = PxtCommand(
        spec: CommandSpec(
            name: "daemon", summary: "Manage the local daemon: start, stop, status, restart.",
            positionals: [.init(name: "action", help: "start, stop, status or restart")],
            options: [.flag("force", short: "f", help: "stop or restart even while requests are in flight")],
            examples: ["pxt daemon status", "pxt daemon restart", "pxt daemon stop -f"], acceptsJSON: true),
        category: "Lifecycle"
    ) { args, ctx in
        let action = args.positional("action")!
        let client = try ctx.client()
        switch action {
        case "run":
            return runDaemon(client.paths)
        case "start":
            let h = try client.ensureRunning()
            ctx.out("pxt daemon up at \(client.paths.baseURL) (PID \(h["pid"]?.pythonDisplay ?? "?"))")
            return 0
        case "stop":
            return try stop(client, ctx, force: args.flag("force"), tolerateMissing: false)
        case "restart":
            _ = try stop(client, ctx, force: args.flag("force"), tolerateMissing: true)
            let h = try client.ensureRunning()
            ctx.out("pxt daemon up at \(client.paths.baseURL) (PID \(h["pid"]?.pythonDisplay ?? "?"))")
            return 0
        case "status":
            guard case .daemon(let h) = client.probeAny() else {
                ctx.err("pxt: no daemon running")
                return 1
            }
            if args.json {
                ctx.outJSON(h)
                return 0
            }
            let rows: [(String, String)] = [
                ("PID", h["pid"]?.pythonDisplay ?? ""), ("Started", h["started_at"]?.pythonDisplay ?? ""), ("Service", h["service"]?.pythonDisplay ?? ""),
                ("Version", h["pxt_version"]?.pythonDisplay ?? ""), ("Install dir", h["pxt_install_dir"]?.pythonDisplay ?? ""),
                ("Binary", h["binary_path"]?.pythonDisplay ?? ""), ("Home", h["pixeltable_home"]?.pythonDisplay ?? ""),
                ("Config", h["pixeltable_config_file"]?.pythonDisplay ?? ""), ("Port", h["port"]?.pythonDisplay ?? ""),
            ]
            let w = rows.map(\.0.count).max()!
            for (k, v) in rows { ctx.out("\(k.padding(toLength: w, withPad: " ", startingAt: 0))  \(v)") }
            ctx.out("")
            ctx.out("PIXELTABLE_* env vars at daemon startup:")
            for (k, v) in h["pixeltable_env"]?.objectValue ?? JSONObject() { ctx.out("  \(k)=\(v.pythonDisplay)") }
            return 0
        default:
            throw args.usageError("argument action: invalid choice: '\(action)' (choose from 'start', 'stop', 'status', 'restart')")
        }
    }

    static func runDaemon(_ paths: DaemonPaths) -> Int32 {
        let box = ExitBox()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            box.code = await DaemonServer.run(home: paths.home, port: paths.port)
            done.signal()
        }
        done.wait()
        return box.code
    }

    /// The exit status of the daemon task, handed back to the main thread.
    final class ExitBox: @unchecked Sendable {
        var code: Int32 = 0
    }

    static func stop(_ client: DaemonClient, _ ctx: CommandContext, force: Bool, tolerateMissing: Bool) throws -> Int32 {
        let paths = client.paths
        let probe = client.probeAny()
        var healthPID: Int32? = nil
        if case .daemon(let h) = probe {
            healthPID = h["pid"]?.intValue.map { Int32($0) }
            let inFlight = h["in_flight"]?.arrayValue ?? []
            if !inFlight.isEmpty && !force {
                let now = Date().timeIntervalSince1970
                let list = inFlight.map { r in
                    "\(r["method"]?.stringValue ?? "") \(r["path"]?.stringValue ?? "") (\(Int(now - (r["started_at"]?.doubleValue ?? now)))s)"
                }.joined(separator: ", ")
                ctx.err("pxt: the daemon is serving \(inFlight.count) request(s): \(list).\nWait for it to finish, or use --force.")
                throw CommandExit(1)
            }
        }
        let recorded = paths.recordedPID()
        let victim: Int32
        switch (recorded, healthPID) {
        case (nil, nil):
            if tolerateMissing { return 0 }
            ctx.err("pxt: no daemon running")
            return 1
        case (let r?, let h?) where r == h:
            victim = h
        case (let r?, let h?):
            guard force else {
                ctx.err("pxt: responder on port \(paths.port) (PID \(h)) does not match pidfile (PID \(r)); refusing to kill it. Use --force to override.")
                return 1
            }
            victim = h
        case (let r?, nil):
            guard ProcessTools.isAlive(r), ProcessTools.isPxtDaemon(r) else {
                unlink(paths.pidFile)
                if tolerateMissing { return 0 }
                ctx.err("pxt: no daemon running")
                return 1
            }
            victim = r
        case (nil, let h?):
            guard force else {
                ctx.err("pxt: a process on port \(paths.port) (PID \(h)) is responding but no pidfile claims it. Refusing to kill it. Use --force to override.")
                return 1
            }
            victim = h
        }
        guard ProcessTools.isPxtDaemon(victim) else {
            ctx.err("pxt: PID \(victim) is not a pxt daemon; refusing to kill it")
            return 1
        }
        ProcessTools.killAndWait(victim)
        if paths.recordedPID() == victim { unlink(paths.pidFile) }
        ctx.out("pxt: stopped daemon (PID \(victim))")
        return 0
    }

    // MARK: shell

    static let shell = PxtCommand(
        spec: CommandSpec(
            name: "shell", summary: "Interactive shell: run pxt commands in one session.",
            examples: ["pxt shell"]),
        category: "Interactive"
    ) { _, ctx in
        if ctx.inShell {
            ctx.err("pxt: already in shell")
            return 1
        }
        ctx.inShell = true
        defer { ctx.inShell = false }
        signal(SIGINT) { _ in
            let nl: [UInt8] = [0x0A]
            _ = write(1, nl, 1)
        }
        defer { signal(SIGINT, SIG_DFL) }
        while true {
            var prompt = "pxt> "
            if let r = try? ctx.client().call("GET", "/api/cwd"), let uri = r["uri"]?.stringValue {
                prompt = "pxt \(PathShape.display(uri))> "
            }
            ctx.out(prompt, terminator: "")
            guard let line = readLine() else {
                ctx.out("")
                return 0
            }
            let words: [String]
            do {
                words = try ShellWords.split(line)
            } catch {
                ctx.err("pxt: parse error: \(error)")
                continue
            }
            guard let first = words.first else { continue }
            switch first {
            case "exit", "quit": return 0
            case "help", "?":
                let width = PxtCommandLine.commands.filter { !$0.spec.name.hasPrefix("_") }.map(\.spec.name.count).max() ?? 8
                for c in PxtCommandLine.commands where c.spec.name != "shell" && !c.spec.name.hasPrefix("_") {
                    ctx.out("\(c.spec.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.spec.summary)")
                }
                ctx.out("\("exit".padding(toLength: width, withPad: " ", startingAt: 0))  leave the shell")
                continue
            default:
                _ = PxtCommandLine.run(words, ctx)
            }
        }
    }
}

/// Splits a shell line into words as Python's `shlex.split` does.
enum ShellWords {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character? = nil
        var it = Array(line)[...]
        while let c = it.popFirst() {
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\" && q == "\"", let n = it.first, n == "\"" || n == "\\" {
                    cur.append(n)
                    it = it.dropFirst()
                } else {
                    cur.append(c)
                }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case "\\":
                guard let n = it.popFirst() else { throw ParseError(description: "No escaped character") }
                cur.append(n)
                inWord = true
            case " ", "\t":
                if inWord {
                    words.append(cur)
                    cur = ""
                    inWord = false
                }
            default:
                cur.append(c)
                inWord = true
            }
        }
        if quote != nil { throw ParseError(description: "No closing quotation") }
        if inWord { words.append(cur) }
        return words
    }
}

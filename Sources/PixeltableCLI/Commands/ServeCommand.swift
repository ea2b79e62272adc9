import Foundation
import Pixeltable
import PixeltableServing
import Synchronization

/// `pxt serve`: a named service from TOML, or one endpoint configured by flags.
enum ServeCommand {
    static let serverOptions: [CommandSpec.Option] = [
        .value("host", metavar: "HOST", help: "bind address (overrides the TOML host; default 0.0.0.0)"),
        .value("port", metavar: "PORT", help: "bind port (overrides the TOML port; default 8000)"),
        .value("prefix", metavar: "PREFIX", help: "URL prefix prepended to all routes (empty or starting with /)"),
        CommandSpec.Option(short: nil, long: "config", metavar: "FILE", repeated: true, help: "an additional TOML config file (repeatable; the last wins)"),
        .flag("dry-run", help: "print the resolved config and exit without starting the server"),
        .flag("json", help: "machine-readable JSON on stdout (startup) or stderr (errors)"),
    ]

    static let exportOptions: [CommandSpec.Option] = [
        .value("export-sql-db-connect", metavar: "URL", help: "connection string of an external database to export each row to"),
        .value("export-sql-table", metavar: "TABLE", help: "target table (required with --export-sql-db-connect)"),
        .value("export-sql-db-schema", metavar: "SCHEMA", help: "optional schema qualifier"),
        .value("export-sql-method", metavar: "METHOD", help: "how each row is written (default insert)", choices: ["insert", "update", "merge"]),
        .value(
            "export-sql-delivery", metavar: "DELIVERY", help: "direct (during the request; default) or outbox (recorded with the write, delivered after it with retries)",
            choices: ["direct", "outbox"]),
    ]

    static func list(_ long: String, _ metavar: String, _ help: String) -> CommandSpec.Option {
        CommandSpec.Option(short: nil, long: long, metavar: metavar, multiple: true, help: help)
    }

    static let named = CommandSpec(
        name: "serve", summary: "Serve tables and named queries over HTTP: a named service from TOML, or one endpoint (insert, update, delete, query).",
        positionals: [.init(name: "service", help: "the service name (or insert, update, delete, query for single-endpoint mode)")],
        options: serverOptions + [.value("base-uri", metavar: "PATH", help: "base directory for relative table paths")],
        examples: ["pxt serve my-service --config service.toml", "pxt serve my-service --config service.toml --dry-run --json", "pxt serve insert --table my_dir.my_table --path /generate --inputs prompt"])

    static let insertSpec = CommandSpec(
        name: "serve insert", summary: "Start a service with a single insert endpoint.",
        options: [
            .value("table", metavar: "TABLE", help: "Pixeltable table path (e.g. my_dir.my_table)", required: true),
            .value("path", metavar: "PATH", help: "URL path (e.g. /generate)", required: true),
            list("inputs", "INPUTS", "columns accepted from the request body"), list("uploadfile-inputs", "COLUMNS", "columns accepted as multipart file uploads"),
            list("outputs", "OUTPUTS", "columns returned in the response"), .flag("return-fileresponse", help: "return the single media output as a raw file download"),
            .flag("background", help: "run the insert in the background and answer with a job handle"),
        ] + exportOptions + serverOptions,
        examples: ["pxt serve insert --table my_dir.my_table --path /generate --inputs prompt --outputs prompt result --port 8000"])

    static let updateSpec = CommandSpec(
        name: "serve update", summary: "Start a service with a single update endpoint (the table needs a primary key).",
        options: [
            .value("table", metavar: "TABLE", help: "Pixeltable table path", required: true), .value("path", metavar: "PATH", help: "URL path", required: true),
            list("inputs", "INPUTS", "non-PK columns to update (PK columns are always accepted)"), list("outputs", "OUTPUTS", "columns returned in the response"),
            .flag("return-fileresponse", help: "return the single media output as a raw file download"),
            .flag("background", help: "run the update in the background and answer with a job handle"),
        ] + exportOptions + serverOptions,
        examples: ["pxt serve update --table my_dir.my_table --path /update --inputs prompt --outputs id prompt result"])

    static let deleteSpec = CommandSpec(
        name: "serve delete", summary: "Start a service with a single delete endpoint.",
        options: [
            .value("table", metavar: "TABLE", help: "Pixeltable table path", required: true), .value("path", metavar: "PATH", help: "URL path", required: true),
            list("match-columns", "COLUMNS", "columns to match on (defaults to the primary key)"),
            .flag("background", help: "run the delete in the background and answer with a job handle"),
        ] + serverOptions,
        examples: ["pxt serve delete --table my_dir.my_table --path /delete"])

    static let querySpec = CommandSpec(
        name: "serve query", summary: "Start a service with a single query endpoint.",
        options: [
            .value("query", metavar: "QUERY", help: "query reference (myapp.queries.search_docs or myapp.queries:search_docs)", required: true),
            .value("path", metavar: "PATH", help: "URL path", required: true), list("inputs", "INPUTS", "parameters accepted from the request"),
            list("uploadfile-inputs", "PARAMS", "parameters accepted as multipart file uploads"),
            .flag("one-row", help: "expect exactly one result row (404 on 0, 409 on more)"),
            .flag("return-fileresponse", help: "return the single media result as a raw file"),
            .flag("background", help: "run the query in the background and answer with a job handle"),
            .value("method", metavar: "METHOD", help: "HTTP method (default: post)", choices: ["get", "post"]),
        ] + serverOptions,
        examples: ["pxt serve query --query myapp.queries.search_docs --path /search", "pxt serve query --query myapp.queries.lookup_by_id --path /lookup --one-row --method get"])

    static let command = PxtCommand(spec: named, category: "Serving") { _, _ in 0 }

    /// Parses and runs `pxt serve` (argv after `serve`).
    static func run(_ argv: [String], _ ctx: CommandContext) -> Int32 {
        let mode = argv.first ?? ""
        let spec: CommandSpec
        switch mode {
        case "insert": spec = insertSpec
        case "update": spec = updateSpec
        case "delete": spec = deleteSpec
        case "query": spec = querySpec
        default: spec = named
        }
        let rest = ["insert", "update", "delete", "query"].contains(mode) ? Array(argv.dropFirst()) : argv
        let args: ParsedArguments
        do {
            args = try ParsedArguments.parse(rest, spec: spec)
        } catch let h as HelpRequested {
            ctx.out(h.text, terminator: "")
            return 0
        } catch let u as UsageError {
            ctx.err(u.text, terminator: "")
            return 2
        } catch {
            ctx.err("pxt: \(error)")
            return 2
        }
        let json = args.json
        func fail(_ message: String) -> Int32 {
            if json {
                ctx.err(JSONWriter(style: .spaced).string(["status": "error", "message": .string(message)]))
            } else {
                ctx.err("pxt: error: \(message)")
            }
            return 1
        }
        var config: ServiceConfig
        do {
            config = try resolveConfig(args, mode: spec.name, ctx)
            if let h = args.value("host") { config.host = h }
            if let p = args.value("port") {
                guard let port = Int(p) else { throw args.usageError("argument --port: invalid int value: '\(p)'") }
                config.port = port
            }
            if let p = args.value("prefix") { config.prefix = p }
            try config.validate()
        } catch let u as UsageError {
            ctx.err(u.text, terminator: "")
            return 2
        } catch let e as PixeltableError {
            return fail(e.message)
        } catch {
            return fail("\(error)")
        }
        if args.flag("dry-run") {
            if json {
                ctx.out(JSONWriter(style: .pretty(indent: 2)).string(config.json))
            } else {
                var lines = ["Service:  \(config.name)", "  Host:   \(config.host)", "  Port:   \(config.port)"]
                if !config.prefix.isEmpty { lines.append("  Prefix: \(config.prefix)") }
                if let auth = config.auth {
                    // What is accepted, never a secret.
                    var kinds: [String] = []
                    if !auth.apiKeys.isEmpty { kinds.append("\(auth.apiKeys.count) API key\(auth.apiKeys.count == 1 ? "" : "s")") }
                    if let jwt = auth.jwt { kinds.append(jwt.secret != nil ? "JWT (HS256)" : "JWT (RS256/ES256)") }
                    let open = auth.publicPaths.isEmpty ? "" : "; public: \(auth.publicPaths.joined(separator: ", "))"
                    lines.append("  Auth:   \(kinds.joined(separator: ", "))\(open)")
                }
                if let cors = config.cors { lines.append("  CORS:   \(cors.allowOrigins.isEmpty ? "no origin" : cors.allowOrigins.joined(separator: ", "))") }
                lines.append("Routes (\(config.routes.count)):")
                for r in config.routes { lines.append("  [\(r.type)] \(r.path)") }
                ctx.out(lines.joined(separator: "\n"))
            }
            return 0
        }
        return serve(config, json: json, ctx: ctx, fail: fail)
    }

    /// The service named on the command line, or the one endpoint the flags describe.
    static func resolveConfig(_ args: ParsedArguments, mode: String, _ ctx: CommandContext) throws -> ServiceConfig {
        let cwd = FileManager.default.currentDirectoryPath
        if mode == "serve" {
            let name = args.positional("service")!
            var c = try ServiceConfigLoader.lookup(name, configFiles: args.list("config") ?? [], directory: cwd, home: ctx.home, environment: ctx.environment)
            if let base = args.value("base-uri") {
                c.routes = c.routes.map { r in
                    var r = r
                    if let t = r.table, !t.hasPrefix("/") { r.table = base.hasSuffix("/") ? base + t : base + "/" + t }
                    return r
                }
            }
            return c
        }
        let type = String(mode.dropFirst("serve ".count))
        var r = RouteConfig(type: type, path: args.value("path")!)
        r.table = args.value("table")
        r.query = args.value("query")
        r.inputs = args.list("inputs")
        r.uploadFileInputs = args.list("uploadfile-inputs")
        r.outputs = args.list("outputs")
        r.matchColumns = args.list("match-columns")
        r.returnFileResponse = args.flag("return-fileresponse")
        r.background = args.flag("background")
        r.oneRow = args.flag("one-row")
        if let m = args.value("method") { r.method = QueryMethod(rawValue: m) ?? .post }
        let connect = args.value("export-sql-db-connect")
        let table = args.value("export-sql-table")
        if (table != nil || args.value("export-sql-db-schema") != nil) && connect == nil {
            throw PixeltableError(.invalidArgument, "--export-sql-table / --export-sql-db-schema requires --export-sql-db-connect")
        }
        if (args.value("export-sql-method") != nil || args.value("export-sql-delivery") != nil) && connect == nil {
            throw PixeltableError(.invalidArgument, "--export-sql-method / --export-sql-delivery requires --export-sql-db-connect")
        }
        if connect != nil && table == nil {
            throw PixeltableError(.invalidArgument, "--export-sql-db-connect requires --export-sql-table")
        }
        if let connect, let table {
            r.exportSQL = SQLExport(
                dbConnect: connect, table: table, dbSchema: args.value("export-sql-db-schema"), method: args.value("export-sql-method") ?? "insert",
                delivery: SQLExport.Delivery(rawValue: args.value("export-sql-delivery") ?? "direct") ?? .direct)
        }
        var c = ServiceConfig(name: "pxt-serve", directory: cwd)
        c.routes = [r]
        for file in args.list("config") ?? [] {
            // Single-endpoint mode takes host, port and prefix from a --config file's first service.
            if let s = try ServiceConfigLoader.services(inFile: HomeDirectory.absolute(file), environment: ctx.environment).first {
                c.host = s.host
                c.port = s.port
                c.prefix = s.prefix
            }
        }
        return c
    }

    /// What the server reports once it runs, and how it ended.
    final class ServeState: Sendable {
        let interrupted = Atomic<Bool>(false)
        let exitCode = Atomic<Int32>(0)
    }

    static func serve(_ config: ServiceConfig, json: Bool, ctx: CommandContext, fail: @escaping (String) -> Int32) -> Int32 {
        let state = ServeState()
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        let inUse = Atomic<Bool>(false)
        // Note Ctrl-C so that the exit status says the service was interrupted.
        let sigint = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        sigint.setEventHandler {
            if !state.interrupted.exchange(true, ordering: .relaxed) {
                Console.write("Keyboard interrupt received, shutting down\n", fd: 2)
            }
        }
        signal(SIGINT, SIG_IGN)
        sigint.resume()
        let home = ctx.home
        Task.detached {
            defer { done.signal() }
            do {
                let catalog = try Catalog.open(home: home)
                let router = try await ServiceBuilder.build(config, catalog: catalog)
                let server = ServiceServer(router: router, host: config.host, port: config.port)
                try await server.run { port in
                    let url = ServiceServer.displayURL(host: config.host, port: port)
                    if json {
                        let line: JSONValue = [
                            "status": "starting", "host": .string(config.host), "port": .int(Int64(port)), "url": .string(url), "docs_url": .string(url + "/docs"),
                            "routes": .int(Int64(router.routeCount)),
                        ]
                        Console.write(JSONWriter(style: .spaced).string(line) + "\n", fd: 1)
                    } else {
                        Console.write(
                            """
                            Starting Pixeltable service: \(config.name)
                              Bound to \(config.host):\(port)
                              Listening on \(url)
                              API docs at \(url)/docs
                              Routes: \(router.routeCount)

                            """, fd: 1)
                    }
                }
            } catch let e as PixeltableError {
                failure.withLock { $0 = e.message }
            } catch {
                if ServiceServer.isAddressInUse(error) {
                    inUse.store(true, ordering: .relaxed)
                } else {
                    failure.withLock { $0 = "\(error)" }
                }
            }
        }
        done.wait()
        if inUse.load(ordering: .relaxed) {
            if json {
                ctx.err(JSONWriter(style: .spaced).string(["status": "error", "code": "EADDRINUSE", "port": .int(Int64(config.port)), "message": .string("port \(config.port) is already in use")]))
            } else {
                ctx.err("pxt: error: port \(config.port) is already in use")
            }
            return 1
        }
        if let f = failure.withLock({ $0 }) { return fail(f) }
        return state.interrupted.load(ordering: .relaxed) ? 130 : 0
    }
}

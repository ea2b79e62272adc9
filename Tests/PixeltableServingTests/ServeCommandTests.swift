import Foundation
import GRDB
import Pixeltable
import PixeltableServing
import Synchronization
import Testing

// `pxt serve` as users run it: the built binary, a temporary home, real processes, signals and
// sockets (the harness is in ServeHarness.swift).

@Suite struct ServeDryRunTests {
    @Test func dryRunText() async throws {
        try await withServeEnv { env in
            var r = try await env.run(["quickstart", "--config", "service.toml", "--dry-run"])
            #expect(r.code == 0, "\(r)")
            #expect(r.err.isEmpty, "\(r)")
            let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(
                Array(lines.prefix(4)) == ["Service:  quickstart", "  Host:   0.0.0.0", "  Port:   8000", "Routes (7):"], "\(r)")
            #expect(lines.contains("  [insert] /films"))
            #expect(lines.contains("  [update] /films/update"))
            #expect(lines.contains("  [delete] /films/delete"))
            #expect(lines.contains("  [query] /films/lookup"))
            #expect(lines.contains("  [insert] /films/ingest"))
            #expect(!r.out.contains("Prefix:"))
            // Flags override the file, and a prefix is shown only when set.
            r = try await env.run(["quickstart", "--config", "service.toml", "--dry-run", "--prefix", "/api", "--port", "9100", "--host", "127.0.0.1"])
            #expect(r.code == 0, "\(r)")
            #expect(r.out.hasPrefix("Service:  quickstart\n  Host:   127.0.0.1\n  Port:   9100\n  Prefix: /api\nRoutes (7):\n  [insert] /films\n"), "\(r)")
        }
    }

    @Test func dryRunJSON() async throws {
        try await withServeEnv { env in
            let r = try await env.run(["quickstart", "--config", "service.toml", "--dry-run", "--json"])
            #expect(r.code == 0, "\(r)")
            let json = try JSONParser.parse(r.out)
            #expect(json.objectValue?.keys == ["name", "prefix", "host", "port", "modules", "routes"])
            #expect(json["name"] == "quickstart")
            #expect(json["prefix"] == "")
            #expect(json["port"] == 8000)
            #expect(json["modules"] == ["app.films"])
            let routes = try #require(json["routes"]?.arrayValue)
            #expect(routes.count == 7)
            #expect(routes.allSatisfy { Array(($0.objectValue?.keys ?? []).prefix(3)) == ["path", "background", "type"] })
            #expect(routes[0]["table"] == "quickstart/films")
            #expect(routes[0]["uploadfile_inputs"] == .null)
            #expect(routes[0]["export_sql"] == .null)
            #expect(routes[3]["query"] == "app.films.lookup_by_id")
            #expect(routes[3]["method"] == "get")
            #expect(routes[3]["one_row"] == true)
            #expect(routes[4]["query"] == "app.films:by_decade")
            #expect(routes[6]["background"] == true)
            // Indented by two spaces, one key per line.
            #expect(r.out.hasPrefix("{\n  \"name\": \"quickstart\",\n  \"prefix\": \"\",\n"), "\(r)")
        }
    }

    @Test func singleEndpointMode() async throws {
        try await withServeEnv { env in
            var r = try await env.run(["insert", "--table", "t", "--path", "/ins", "--inputs", "a", "b", "--dry-run", "--json"])
            #expect(r.code == 0, "\(r)")
            var json = try JSONParser.parse(r.out)
            #expect(json["name"] == "pxt-serve")
            #expect(json["host"] == "0.0.0.0")
            #expect(json["port"] == 8000)
            #expect(
                json["routes"]
                    == [
                        [
                            "path": "/ins", "background": false, "type": "insert", "table": "t", "inputs": ["a", "b"], "uploadfile_inputs": .null, "outputs": .null,
                            "return_fileresponse": false, "export_sql": .null,
                        ]
                    ])
            r = try await env.run(["insert", "--table", "t", "--path", "/ins", "--dry-run"])
            #expect(r.out == "Service:  pxt-serve\n  Host:   0.0.0.0\n  Port:   8000\nRoutes (1):\n  [insert] /ins\n", "\(r)")
            r = try await env.run(["update", "--table", "d.t", "--path", "/u", "--inputs", "x", "--outputs", "id", "x", "--background", "--dry-run", "--json"])
            json = try JSONParser.parse(r.out)
            #expect(json["routes"]?[0] == ["path": "/u", "background": true, "type": "update", "table": "d.t", "inputs": ["x"], "outputs": ["id", "x"], "return_fileresponse": false, "export_sql": .null])
            r = try await env.run(["delete", "--table", "t", "--path", "/d", "--match-columns", "a", "b", "--dry-run", "--json"])
            #expect(try JSONParser.parse(r.out)["routes"]?[0]?["match_columns"] == ["a", "b"])
            r = try await env.run(["query", "--query", "app.films.search", "--path", "/s", "--one-row", "--method", "get", "--inputs", "q", "--dry-run", "--json"])
            json = try JSONParser.parse(r.out)
            #expect(json["routes"]?[0] == ["path": "/s", "background": false, "type": "query", "query": "app.films.search", "inputs": ["q"], "uploadfile_inputs": .null, "one_row": true, "return_fileresponse": false, "method": "get"])
            r = try await env.run([
                "insert", "--table", "t", "--path", "/e", "--export-sql-db-connect", "sqlite:///x.db", "--export-sql-table", "log", "--export-sql-method", "update", "--export-sql-delivery", "outbox", "--dry-run", "--json",
            ])
            #expect(
                try JSONParser.parse(r.out)["routes"]?[0]?["export_sql"] == ["db_connect": "sqlite:///x.db", "table": "log", "db_schema": .null, "method": "update", "delivery": "outbox"],
                "\(r)")
            r = try await env.run(["insert", "--table", "t", "--path", "/e", "--export-sql-delivery", "outbox", "--dry-run"])
            #expect(r.code == 1)
            #expect(r.err == "pxt: error: --export-sql-method / --export-sql-delivery requires --export-sql-db-connect\n", "\(r)")
        }
    }

    @Test func usageErrorsExitTwoWithExamples() async throws {
        try await withServeEnv { env in
            for sub in ["insert", "update", "delete"] {
                let r = try await env.run([sub])
                #expect(r.code == 2, "\(r)")
                #expect(r.err.contains("--table"), "\(r)")
                #expect(r.err.contains("Examples:"), "\(r)")
                #expect(r.err.contains("usage: pxt serve \(sub)"), "\(r)")
                #expect(r.out.isEmpty)
            }
            var r = try await env.run(["query"])
            #expect(r.code == 2)
            #expect(r.err.contains("--query") && r.err.contains("Examples:"), "\(r)")
            r = try await env.run(["insert", "--table", "t"])
            #expect(r.code == 2)
            #expect(r.err.contains("the following arguments are required: --path"), "\(r)")
            r = try await env.run(["query", "--query", "a.b", "--path", "/q", "--method", "put"])
            #expect(r.code == 2, "\(r)")
            r = try await env.run(["quickstart", "--config", "service.toml", "--port", "eighty"])
            #expect(r.code == 2, "\(r)")
            #expect(r.err.contains("invalid int value: 'eighty'"), "\(r)")
        }
    }

    @Test func configurationErrorsExitOne() async throws {
        try await withServeEnv { env in
            var r = try await env.run(["insert", "--table", "t", "--path", "/x", "--export-sql-table", "log", "--dry-run"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: --export-sql-table / --export-sql-db-schema requires --export-sql-db-connect\n", "\(r)")
            r = try await env.run(["insert", "--table", "t", "--path", "/x", "--export-sql-db-connect", "sqlite:///x.db", "--dry-run"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: --export-sql-db-connect requires --export-sql-table\n", "\(r)")
            r = try await env.run(["quickstart", "--config", "service.toml", "--prefix", "api", "--dry-run"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: prefix must be empty or start with '/' (got 'api')\n", "\(r)")
            r = try await env.run(["quickstart", "--config", "service.toml", "--prefix", "api", "--json"])
            #expect(r.code == 1, "\(r)")
            #expect(try JSONParser.parse(r.err) == ["status": "error", "message": "prefix must be empty or start with '/' (got 'api')"], "\(r)")
            #expect(r.out.isEmpty)
            r = try await env.run(["insert", "--table", "t", "--path", "nope", "--dry-run"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: path must start with '/' (got 'nope')\n", "\(r)")
            r = try await env.run(["nope", "--config", "service.toml"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: Service 'nope' not found. The following services are configured:\nquickstart\n", "\(r)")
            r = try await env.run(["nope"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: No services found in Pixeltable configuration.\n", "\(r)")
            // A service file with an unknown key: the file, the line and the key.
            let bad = try env.write("bad.toml", "[[service]]\nname = \"svc\"\n\n[[service.routes]]\ntype = \"insert\"\ntable = \"t\"\npath = \"/x\"\ntypo_key = 1\n")
            r = try await env.run(["svc", "--config", bad])
            #expect(r.code == 1, "\(r)")
            #expect(r.err.hasPrefix("pxt: error: \(bad):8: unknown key 'typo_key'"), "\(r)")
            r = try await env.run(["svc", "--config", bad, "--json"])
            #expect(r.code == 1, "\(r)")
            let json = try JSONParser.parse(r.err)
            #expect(json["status"] == "error")
            #expect(json["message"]?.stringValue?.hasPrefix("\(bad):8: unknown key 'typo_key'") == true, "\(r)")
            // A route the router refuses is reported when the service starts, before it binds.
            let refused = try env.write("refused.toml", "[[service]]\nname = \"svc\"\nmodules = [\"app.films\"]\n\n[[service.routes]]\ntype = \"insert\"\ntable = \"quickstart/films\"\npath = \"/x\"\ninputs = [\"nope\"]\n")
            // (Its module is found in the working directory, the quickstart.)
            r = try await env.run(["svc", "--config", refused, "--port", "0"])
            #expect(r.code == 1, "\(r)")
            #expect(r.err == "pxt: error: \(refused):5: add_insert_route(): unknown input column 'nope'\n", "\(r)")
        }
    }

    @Test func aPortInUseIsReported() async throws {
        try await withServeEnv { env in
            let occupied = try OccupiedPort()
            defer { occupied.close() }
            let p = occupied.port
            var r = try await env.run(["quickstart", "--config", "service.toml", "--host", "127.0.0.1", "--port", String(p)])
            #expect(r.code == 1, "\(r)")
            #expect(r.err.hasSuffix("pxt: error: port \(p) is already in use\n"), "\(r)")
            r = try await env.run(["quickstart", "--config", "service.toml", "--host", "127.0.0.1", "--port", String(p), "--json"])
            #expect(r.code == 1, "\(r)")
            #expect(r.out.isEmpty, "\(r)")
            #expect(r.err == "{\"status\": \"error\", \"code\": \"EADDRINUSE\", \"port\": \(p), \"message\": \"port \(p) is already in use\"}\n", "\(r)")
        }
    }
}

@Suite struct ServeRunTests {
    /// Exercises every route of the running quickstart service on `port`.
    func exerciseQuickstart(_ port: Int) async throws {
        // Insert (the README's first curl): the response carries the computed columns.
        var r = try await http(port, "POST", "/films", json: ["id": 1, "title": "Alien", "year": 1979, "rating": 8.0, "tags": ["horror", "sci-fi"]])
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json == ["id": 1, "title": "Alien", "title_upper": "ALIEN", "decade": 1970, "stars": 4.0])
        for film: JSONValue in [
            ["id": 2, "title": "Brazil", "year": 1985, "rating": 7.9, "tags": ["satire"]], ["id": 3, "title": "Blade Runner", "year": 1982, "rating": 8.1],
        ] {
            r = try await http(port, "POST", "/films", json: film)
            #expect(r.status == 200, "\(r.text)")
        }
        r = try await http(port, "POST", "/films", json: ["title": "No id"])
        #expect(r.status == 422)
        #expect(r.json["detail"]?[0]?["loc"] == ["body", "id"])
        // Update by primary key; an unknown key is 404.
        r = try await http(port, "POST", "/films/update", json: ["id": 1, "rating": 9.0])
        #expect(r.json == ["id": 1, "rating": 9.0, "stars": 4.5])
        r = try await http(port, "POST", "/films/update", json: ["id": 42, "rating": 1.0])
        #expect(r.status == 404)
        #expect(r.json == ["detail": "row not found"])
        // One row by id with GET.
        r = try await http(port, "GET", "/films/lookup?id=1")
        #expect(r.status == 200)
        #expect(r.json["title"] == "Alien")
        #expect(r.json["rating"] == 9.0)
        #expect(r.json["tags"] == ["horror", "sci-fi"])
        #expect(r.json["title_upper"] == "ALIEN")
        r = try await http(port, "GET", "/films/lookup?id=42")
        #expect(r.status == 404)
        #expect(r.json == ["detail": "query returned no rows"])
        // Queries answer {"rows": [...]}.
        r = try await http(port, "POST", "/films/by-decade", json: ["decade": 1980])
        #expect(r.json == ["rows": [["id": 3, "title": "Blade Runner", "year": 1982, "rating": 8.1], ["id": 2, "title": "Brazil", "year": 1985, "rating": 7.9]]])
        r = try await http(port, "POST", "/films/by-decade", json: ["decade": 1980, "k": 1])
        #expect(r.json["rows"]?.arrayValue?.count == 1)
        r = try await http(port, "POST", "/films/search", json: ["q": "Blade Runner"])
        let rows = try #require(r.json["rows"]?.arrayValue)
        #expect(rows.count == 3)
        #expect(rows.first?["id"] == 3)
        #expect(rows.first?.objectValue?.keys == ["id", "title", "score"])
        // A background insert, polled to done.
        r = try await http(port, "POST", "/films/ingest", json: ["id": 4, "title": "Heat", "year": 1995, "rating": 8.3])
        #expect(r.status == 200)
        let jobURL = try #require(r.json["job_url"]?.stringValue)
        #expect(jobURL.hasSuffix("/jobs/\(r.json["id"]?.stringValue ?? "?")"))
        let job = try await awaitJob(port, jobURL)
        #expect(job["status"] == "done", "\(job)")
        #expect(job["error"] == .null)
        #expect(job["result"]?["title_upper"] == "HEAT")
        #expect(job["result"]?["decade"] == 1990)
        // Delete: one row, then none.
        r = try await http(port, "POST", "/films/delete", json: ["id": 2])
        #expect(r.json == ["num_rows": 1])
        r = try await http(port, "POST", "/films/delete", json: ["id": 2])
        #expect(r.status == 200)
        #expect(r.json == ["num_rows": 0])
        // The docs.
        #expect(try await http(port, "GET", "/openapi.json").json["info"]?["title"] == "quickstart")
        #expect(try await http(port, "GET", "/docs").status == 200)
    }

    /// Whether a new connection to `port` is refused.
    func refused(_ port: Int) async -> Bool {
        await offPool {
            do throws(LoopbackHTTP.Failure) {
                _ = try LoopbackHTTP.request(port: port, method: "GET", path: "/docs", timeout: 10)
                return false
            } catch {
                if case .refused = error { return true }
                return false
            }
        }
    }

    @Test func theQuickstartServesEveryRouteAndStopsGracefullyOnSIGTERM() async throws {
        try await withServeEnv { env in
            let p = try env.start(["quickstart", "--config", "service.toml", "--port", "0"])
            guard await p.waitForStdout(lines: 5) else {
                p.signal(SIGKILL)
                Issue.record("no startup lines: \(p.stdout) \(p.stderr)")
                return
            }
            let lines = p.stdout.split(separator: "\n").map(String.init)
            let port = try #require(listeningPort(p.stdout), "\(p.stdout)")
            #expect(port > 0)
            #expect(
                Array(lines.prefix(5)) == [
                    "Starting Pixeltable service: quickstart", "  Bound to 0.0.0.0:\(port)", "  Listening on http://localhost:\(port)",
                    "  API docs at http://localhost:\(port)/docs", "  Routes: 7",
                ])
            try await exerciseQuickstart(port)

            // A request in flight when SIGTERM arrives still gets its answer. Two pipelined
            // requests go in one write: a lookup, then the head and part of the body of an
            // insert. When the lookup's answer is back, the server has read the insert's head,
            // so the insert is in flight; then SIGTERM, and once new connections are refused,
            // the rest of the body.
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            let body = Array(#"{"id": 50, "title": "Heat 2", "year": 2026, "rating": 7.0}"#.utf8)
            let lookup = "GET /films/lookup?id=3 HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n"
            let insert = "POST /films HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
            let first = await offPool { () -> (status: String, body: String)? in
                connection.send(Array(lookup.utf8) + Array(insert.utf8) + body.prefix(10))
                return connection.readResponse()
            }
            #expect(first?.status == "HTTP/1.1 200 OK", "\(String(describing: first))")
            #expect(first?.body.contains(#""title":"Blade Runner""#) == true, "\(String(describing: first))")
            p.signal(SIGTERM)
            #expect(await eventually { await refused(port) }, "the server kept accepting connections after SIGTERM")
            let answer = await offPool { () -> (status: String, body: String)? in
                connection.send(Array(body.dropFirst(10)))
                return connection.readResponse()
            }
            #expect(answer?.status == "HTTP/1.1 200 OK", "\(String(describing: answer))")
            #expect(answer?.body == #"{"id":50,"title":"Heat 2","title_upper":"HEAT 2","decade":2020,"stars":3.5}"#, "\(String(describing: answer))")
            #expect(await offPool { connection.isClosedByPeer() })
            let code = await p.waitForExit()
            #expect(code == 0, "stderr: \(p.stderr)")
            #expect(p.stderr.isEmpty, "\(p.stderr)")

            // What was written is in the catalog for the next start.
            let catalog = try Catalog.open(home: HomeDirectory(path: env.home))
            let films = try await catalog.table("quickstart/films")
            #expect(try await films.select(["id"], orderBy: ["id"]).rows.map { $0["id"] } == [.int(1), .int(3), .int(4), .int(50)])
        }
    }

    @Test func jsonStartupAndSIGINT() async throws {
        try await withServeEnv { env in
            let p = try env.start(["quickstart", "--config", "service.toml", "--host", "127.0.0.1", "--port", "0", "--json"])
            guard await p.waitForStdout(lines: 1) else {
                p.signal(SIGKILL)
                Issue.record("no startup line: \(p.stdout) \(p.stderr)")
                return
            }
            let status = try JSONParser.parse(String(p.stdout.split(separator: "\n")[0]))
            #expect(status.objectValue?.keys == ["status", "host", "port", "url", "docs_url", "routes"])
            let port = try #require(status["port"]?.intValue)
            #expect(status == ["status": "starting", "host": "127.0.0.1", "port": .int(port), "url": .string("http://127.0.0.1:\(port)"), "docs_url": .string("http://127.0.0.1:\(port)/docs"), "routes": 7])
            #expect(p.stdout.hasPrefix("{\"status\": \"starting\", \"host\": \"127.0.0.1\", \"port\": \(port), "))
            #expect(try await http(Int(port), "GET", "/films/lookup?id=7").status == 404)
            p.signal(SIGINT)
            let code = await p.waitForExit()
            #expect(code == 130, "stdout: \(p.stdout) stderr: \(p.stderr)")
            #expect(p.stderr.contains("Keyboard interrupt received, shutting down"), "\(p.stderr)")
            // Only the one status line on stdout.
            #expect(p.stdout.split(separator: "\n").count == 1, "\(p.stdout)")
        }
    }

    @Test func singleEndpointServiceRuns() async throws {
        try await withServeEnv { env in
            // The table comes from applying the quickstart's module first.
            let first = try env.start(["quickstart", "--config", "service.toml", "--host", "127.0.0.1", "--port", "0", "--json"])
            #expect(await first.waitForStdout(lines: 1))
            first.signal(SIGTERM)
            #expect(await first.waitForExit() == 0)

            let p = try env.start(["insert", "--table", "quickstart.films", "--path", "/add", "--inputs", "id", "title", "--outputs", "title_upper", "--host", "127.0.0.1", "--port", "0"])
            guard await p.waitForStdout(lines: 5) else {
                p.signal(SIGKILL)
                Issue.record("no startup lines: \(p.stdout) \(p.stderr)")
                return
            }
            #expect(p.stdout.hasPrefix("Starting Pixeltable service: pxt-serve\n"), "\(p.stdout)")
            #expect(p.stdout.contains("  Routes: 1\n"))
            let port = try #require(listeningPort(p.stdout))
            let r = try await http(port, "POST", "/add", json: ["id": 9, "title": "Ran"])
            #expect(r.json == ["title_upper": "RAN"])
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0, "\(p.stderr)")
        }
    }

    /// A service exporting the quickstart's films inserts to `films_log` with `merge`.
    static func exportingService(dbConnect: String, delivery: String = "direct") -> String {
        """
        [[service]]
        name = "exporting"
        modules = ["app.films"]
        [[service.routes]]
        type = "insert"
        table = "quickstart/films"
        path = "/films"
        inputs = ["id", "title"]
        outputs = ["id", "title", "title_upper"]
        [service.routes.export_sql]
        db_connect = "\(dbConnect)"
        table = "films_log"
        method = "merge"
        delivery = "\(delivery)"
        """
    }

    @Test func exportSQLWritesToASQLiteTargetNamedThroughTheEnvironment() async throws {
        try await withServeEnv { env in
            let target = env.root + "/analytics.db"
            let made = Process()
            made.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            made.arguments = ["python3", "-c", "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE films_log (id INTEGER, title TEXT PRIMARY KEY, title_upper TEXT)')", target]
            try made.run()
            made.waitUntilExit()
            try #require(made.terminationStatus == 0)
            try env.write("quickstart/export.toml", Self.exportingService(dbConnect: "sqlite:///${ANALYTICS_DB}"))
            // Without the variable: an error naming it, the file and the line; nothing served.
            let dry = try await env.run(["exporting", "--config", "export.toml", "--dry-run", "--json"])
            #expect(dry.code == 1, "\(dry)")
            #expect(dry.err.contains("export.toml:11: 'db_connect' in export_sql of [[service.routes]] #1 of service 'exporting': environment variable 'ANALYTICS_DB' is not set"), "\(dry)")
            let p = try PxtProcess(
                ["serve", "exporting", "--config", "export.toml", "--host", "127.0.0.1", "--port", "0"], directory: env.quickstart,
                environment: env.environment.merging(["ANALYTICS_DB": target]) { $1 })
            guard await p.waitForStdout(lines: 5), let port = listeningPort(p.stdout) else {
                p.signal(SIGKILL)
                Issue.record("no startup lines: \(p.stdout) \(p.stderr)")
                return
            }
            for id in [1, 2] {
                let r = try await http(port, "POST", "/films", json: ["id": .int(Int64(id)), "title": "Alien"])
                #expect(r.status == 200, "\(r.text)")
            }
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0, "\(p.stderr)")
            let read = Process()
            let out = Pipe()
            read.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            read.arguments = ["python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT id, title, title_upper FROM films_log').fetchall())", target]
            read.standardOutput = out
            try read.run()
            read.waitUntilExit()
            let rows = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            // merge on the target's key (the title): the second request updated the first's row.
            #expect(rows == "[(2, 'Alien', 'ALIEN')]\n")
        }
    }

    /// `[service.auth]` through the real binary: the key comes from the environment, is never
    /// printed, and is what lets a request in.
    @Test func anAuthenticatedServiceNeedsItsKeyAndNeverPrintsIt() async throws {
        try await withServeEnv { env in
            let key = "k-\(UUID().uuidString)"
            try env.write("quickstart/auth.toml", """
                [[service]]
                name = "guarded"
                modules = ["app.films"]
                [service.auth]
                api_keys = ["${FILMS_KEY}"]
                public = ["/openapi.json"]
                [service.cors]
                allow_origins = ["https://app.example.com"]
                [[service.routes]]
                type = "insert"
                table = "quickstart/films"
                path = "/films"
                inputs = ["id", "title"]
                """)
            var e = env
            e.extraEnvironment["FILMS_KEY"] = key
            let text = try await e.run(["guarded", "--config", "auth.toml", "--dry-run"])
            #expect(text.code == 0, "\(text)")
            #expect(text.out.contains("Auth:   1 API key; public: /openapi.json") && text.out.contains("CORS:   https://app.example.com"), "\(text.out)")
            let json = try await e.run(["guarded", "--config", "auth.toml", "--dry-run", "--json"])
            #expect(json.out.contains("\"***\"") && !json.out.contains(key) && !text.out.contains(key), "\(json.out)")
            guard let (p, port) = try await e.serve(["guarded", "--config", "auth.toml", "--host", "127.0.0.1", "--port", "0"]) else { return }
            #expect(!p.stdout.contains(key) && !p.stderr.contains(key))
            #expect(try await http(port, "POST", "/films", json: ["id": 1, "title": "Alien"]).status == 401)
            let ok = try await rawHTTP(port, "POST", "/films", headers: ["Content-Type": "application/json", "X-API-Key": key], body: Array(#"{"id": 1, "title": "Alien"}"#.utf8))
            #expect(ok.status == 200, "\(ok.text)")
            #expect(try await http(port, "GET", "/openapi.json").json["components"]?["securitySchemes"]?["APIKeyHeader"] != nil)
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0, "\(p.stderr)")
        }
    }

    @Test func theOutboxDeliversEveryAcknowledgedRowAfterASIGKILL() async throws {
        try await withServeEnv { env in
            let target = env.root + "/analytics.db"
            var config = Configuration()
            config.allowsUnsafeTransactions = true
            config.busyMode = .timeout(10)
            let db = try DatabaseQueue(path: target, configuration: config)
            try await db.write { try $0.execute(sql: "CREATE TABLE films_log (id INTEGER PRIMARY KEY, title TEXT, title_upper TEXT)") }
            try env.write("quickstart/outbox.toml", Self.exportingService(dbConnect: "sqlite:///\(target)", delivery: "outbox"))
            guard let (first, port) = try await env.serve(["exporting", "--config", "outbox.toml", "--host", "127.0.0.1", "--port", "0"]) else { return }
            // The target is locked by another writer: nothing can be delivered while the server runs.
            try await db.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            for id in 1...30 {
                let r = try await http(port, "POST", "/films", json: ["id": .int(Int64(id)), "title": .string("Film \(id)")])
                #expect(r.status == 200, "\(r.text)")
            }
            // Every acknowledged row is in the outbox, committed with it: a SIGKILL loses none.
            first.signal(SIGKILL)
            _ = await first.waitForExit()
            try await db.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
            #expect(try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM films_log") } == 0)
            let pending = try await OutboxRecords.summary(in: try Catalog.open(home: HomeDirectory(path: env.home)))
            #expect(pending.map(\.pending) == [30], "\(pending)")
            // The next run delivers them.
            guard let (second, _) = try await env.serve(["exporting", "--config", "outbox.toml", "--host", "127.0.0.1", "--port", "0"]) else { return }
            let delivered = await eventually(within: 30) {
                (try? await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM films_log") }) == 30
            }
            #expect(delivered)
            #expect(try await db.read { try String.fetchOne($0, sql: "SELECT title_upper FROM films_log WHERE id = 30") } == "FILM 30")
            second.signal(SIGTERM)
            #expect(await second.waitForExit() == 0, "\(second.stderr)")
        }
    }

    @Test(.enabled(if: miniLMInstalled, "needs sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-models.sh; .ci/run runs it)"))
    func theSearchExampleFindsArticlesByMeaning() async throws {
        try await withServeEnv { env in
            guard let (p, port) = try await env.serve(["search", "--config", "service.toml", "--host", "127.0.0.1", "--port", "0"], in: env.search) else { return }
            let lines = try String(contentsOfFile: env.search + "/articles.jsonl", encoding: .utf8).split(separator: "\n")
            for line in lines {
                let r = try await rawHTTP(port, "POST", "/articles", headers: ["Content-Type": "application/json"], body: Array(line.utf8))
                #expect(r.status == 200, "\(r.text)")
            }
            var r = try await rawHTTP(port, "GET", "/articles/search?q=my%20cat%20is%20dozing&k=2")
            #expect(r.status == 200, "\(r.text)")
            var rows = try JSONParser.parse(bytes: r.body)["rows"]?.arrayValue ?? []
            #expect(rows.count == 2 && rows.first?["title"] == "Cats and naps")
            r = try await rawHTTP(port, "GET", "/articles/search?q=football")
            #expect(try JSONParser.parse(bytes: r.body)["rows"]?.arrayValue?.first?["title"] == "Late winner")
            // Within a section the answer is the section's best, even where another section's is better.
            r = try await rawHTTP(port, "GET", "/articles/search_in?q=my%20cat%20is%20dozing&section=health&k=1")
            rows = try JSONParser.parse(bytes: r.body)["rows"]?.arrayValue ?? []
            #expect(rows.count == 1 && rows.first?["section"] == "health")
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0, "\(p.stderr)")
        }
    }

    @Test func theImageServiceExampleServesUploadsAndFiles() async throws {
        try await withServeEnv { env in
            guard let (p, port) = try await env.serve(["images", "--config", "service.toml", "--host", "127.0.0.1", "--port", "0"], in: env.images) else { return }
            let sample = [UInt8](try #require(FileManager.default.contents(atPath: env.images + "/sample.jpg")))
            let form = multipart(fields: [("id", "1"), ("tag", "beach")], files: [("image", "sample.jpg", "image/jpeg", sample)])
            var r = try await rawHTTP(port, "POST", "/photos", headers: ["Content-Type": form.contentType], body: form.body)
            #expect(r.status == 200, "\(r.text)")
            let json = try JSONParser.parse(bytes: r.body)
            #expect(json["width"] == 1200 && json["height"] == 800 && json["tag"] == "beach")
            let original = try await rawHTTP(port, "GET", pathOf(json["image"]!.stringValue!))
            #expect(original.body == sample)
            let thumb = try await rawHTTP(port, "GET", "/photos/thumbnail?id=1")
            #expect(thumb.headers["content-type"] == "image/jpeg")
            #expect(try ImageCodec.decode(thumb.body).width == 256)
            let gray = multipart(fields: [("id", "2")], files: [("image", "sample.jpg", "image/jpeg", sample)])
            r = try await rawHTTP(port, "POST", "/photos/gray", headers: ["Content-Type": gray.contentType], body: gray.body)
            #expect(try ImageCodec.decode(r.body).mode == .l)
            let resize = multipart(fields: [("width", "64"), ("height", "48")], files: [("image", "s.jpg", "image/jpeg", sample)])
            r = try await rawHTTP(port, "POST", "/resize", headers: ["Content-Type": resize.contentType], body: resize.body)
            let small = try ImageCodec.decode(r.body)
            #expect(small.width == 64 && small.height == 48)
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0, "\(p.stderr)")

            // Single-endpoint mode takes --uploadfile-inputs.
            guard
                let (one, port2) = try await env.serve(
                    ["insert", "--table", "images/photos", "--path", "/up", "--inputs", "id", "--uploadfile-inputs", "image", "--outputs", "thumbnail", "--host", "127.0.0.1", "--port", "0"],
                    in: env.images)
            else { return }
            let f = multipart(fields: [("id", "3")], files: [("image", "sample.jpg", "image/jpeg", sample)])
            r = try await rawHTTP(port2, "POST", "/up", headers: ["Content-Type": f.contentType], body: f.body)
            #expect(r.status == 200, "\(r.text)")
            #expect(try JSONParser.parse(bytes: r.body)["thumbnail"]?.stringValue?.hasPrefix("http://127.0.0.1:\(port2)/media/media/") == true)
            one.signal(SIGTERM)
            #expect(await one.waitForExit() == 0)
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBodyIsSent() async throws {
        try await withServeEnv { env in
            guard let (p, port) = try await env.serve(["images", "--config", "service.toml", "--host", "127.0.0.1", "--port", "0"], in: env.images) else { return }
            let sample = [UInt8](try #require(FileManager.default.contents(atPath: env.images + "/sample.jpg")))
            let form = multipart(fields: [("id", "5")], files: [("image", "sample.jpg", "image/jpeg", sample)])
            let c = try RawConnection(port: port)
            c.send(Array("POST /photos HTTP/1.1\r\nHost: x\r\nContent-Type: \(form.contentType)\r\nContent-Length: \(form.body.count)\r\nExpect: 100-continue\r\n\r\n".utf8))
            // The interim answer comes before any of the body was sent.
            let interim = c.readResponse()
            #expect(interim?.status == "HTTP/1.1 100 Continue")
            c.send(form.body)
            let final = c.readResponse()
            #expect(final?.status == "HTTP/1.1 200 OK", "\(String(describing: final))")
            c.close()
            p.signal(SIGTERM)
            #expect(await p.waitForExit() == 0)
        }
    }
}

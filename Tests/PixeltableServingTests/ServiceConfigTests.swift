import Foundation
import Pixeltable
import PixeltableServing
import Testing

// Service files: where services come from, what is valid, the dry-run JSON, and building a
// router from a service (modules applied, query references resolved).

/// The error `body` throws, or `nil` when it succeeds.
private func configError(_ body: () throws -> Void) -> PixeltableError? {
    do {
        try body()
        return nil
    } catch let e as PixeltableError {
        return e
    } catch {
        return PixeltableError(.internalError, "unexpected error: \(error)")
    }
}

private func configErrorAsync(_ body: () async throws -> Void) async -> PixeltableError? {
    do {
        try await body()
        return nil
    } catch let e as PixeltableError {
        return e
    } catch {
        return PixeltableError(.internalError, "unexpected error: \(error)")
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
private func lineOf(_ needle: String, in text: String, occurrence: Int = 1) -> Int {
    var seen = 0
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains(needle) {
        seen += 1
        if seen == occurrence { return i + 1 }
    }
    Issue.record("'\(needle)' is not in the text")
    return 0
}

/// A directory for config files: a project directory and a home, removed by `remove()`.
private struct ConfigScratch {
    let root = NSTemporaryDirectory() + "pxt-config-" + UUID().uuidString
    var project: String { root + "/project" }
    var home: HomeDirectory { HomeDirectory(path: root + "/home") }

    init() {
        try? FileManager.default.createDirectory(atPath: root + "/project", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
    }

    /// Writes `text` at `relative` under the root and returns the absolute path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let file = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// A service with one route of every kind and every key set.
private let fullService = """
    [[service]]
    name = "full-service"
    title = "Full API"
    prefix = "/api"
    host = "127.0.0.1"
    port = 9001
    modules = ["app.films", "app.more"]

    [[service.routes]]
    type = "insert"
    table = "app/films"
    path = "/films"
    inputs = ["id", "title"]
    uploadfile_inputs = ["poster"]
    outputs = ["id", "title_upper"]
    return_fileresponse = false
    background = true

    [service.routes.export_sql]
    db_connect = "sqlite:///out.db"
    table = "films_log"
    db_schema = "main"
    method = "update"

    [[service.routes]]
    type = "update"
    table = "app.films"
    path = "/films/update"
    inputs = ["rating"]
    outputs = ["id", "rating"]

    [[service.routes]]
    type = "delete"
    table = "app/films"
    path = "/films/delete"
    match_columns = ["title"]

    [[service.routes]]
    type = "query"
    path = "/films/lookup"
    query = "app.films.lookup"
    inputs = ["id"]
    one_row = true
    method = "get"

    [[service.routes]]
    type = "compute"
    table = "app/films"
    path = "/films/compute"
    """

@Suite struct ServiceConfigParsingTests {
    @Test func readsEveryKeyOfATopLevelService() throws {
        let services = try ServiceConfigLoader.services(inText: fullService, file: "/srv/service.toml")
        #expect(services.count == 1)
        let s = services[0]
        #expect(s.name == "full-service")
        #expect(s.title == "Full API")
        #expect(s.prefix == "/api")
        #expect(s.host == "127.0.0.1")
        #expect(s.port == 9001)
        #expect(s.modules == ["app.films", "app.more"])
        #expect(s.file == "/srv/service.toml")
        // Modules and query references resolve next to the service file first.
        #expect(s.directory == "/srv")
        #expect(s.routes.map(\.type) == ["insert", "update", "delete", "query", "compute"])
        #expect(s.routes.map(\.path) == ["/films", "/films/update", "/films/delete", "/films/lookup", "/films/compute"])
        #expect(s.routes.map { $0.location?.line } == (1...5).map { lineOf("[[service.routes]]", in: fullService, occurrence: $0) })
        #expect(s.routes.allSatisfy { $0.location?.file == "/srv/service.toml" })

        let insert = s.routes[0]
        #expect(insert.table == "app/films")
        #expect(insert.inputs == ["id", "title"])
        #expect(insert.uploadFileInputs == ["poster"])
        #expect(insert.outputs == ["id", "title_upper"])
        #expect(insert.returnFileResponse == false)
        #expect(insert.background)
        #expect(insert.exportSQL == SQLExport(dbConnect: "sqlite:///out.db", table: "films_log", dbSchema: "main", method: "update"))

        let update = s.routes[1]
        #expect(update.table == "app.films")
        #expect(update.inputs == ["rating"])
        #expect(update.outputs == ["id", "rating"])
        #expect(update.exportSQL == nil)
        #expect(!update.background)

        #expect(s.routes[2].matchColumns == ["title"])

        let query = s.routes[3]
        #expect(query.query == "app.films.lookup")
        #expect(query.table == nil)
        #expect(query.inputs == ["id"])
        #expect(query.oneRow)
        #expect(query.method == .get)

        let compute = s.routes[4]
        #expect(compute.inputs == nil && compute.outputs == nil && compute.uploadFileInputs == nil)
        #expect(compute.method == .post && !compute.oneRow && !compute.returnFileResponse)
    }

    @Test func environmentVariablesAreSubstitutedInEveryString() throws {
        let text = """
            [[service]]
            name = "svc"
            host = "${BIND_HOST:-127.0.0.1}"
            [[service.routes]]
            type = "insert"
            table = "${APP_DIR}/events"
            path = "/events"
            outputs = ["id", "${EXTRA_COLUMN}"]
            [service.routes.export_sql]
            db_connect = "postgresql://app:${PG_PASSWORD}@db/analytics"
            table = "literal_$${NOT_A_VAR}_and_$5"
            """
        let env = ["APP_DIR": "myapp", "EXTRA_COLUMN": "kind", "PG_PASSWORD": "s3cret"]
        let s = try #require(try ServiceConfigLoader.services(inText: text, file: "/srv/svc.toml", environment: env).first)
        #expect(s.host == "127.0.0.1")
        let r = try #require(s.routes.first)
        #expect(r.table == "myapp/events")
        #expect(r.outputs == ["id", "kind"])
        #expect(r.exportSQL?.dbConnect == "postgresql://app:s3cret@db/analytics")
        #expect(r.exportSQL?.table == "literal_${NOT_A_VAR}_and_$5")
        // What --dry-run prints has the password masked.
        #expect(r.json["export_sql"]?["db_connect"] == "postgresql://app:***@db/analytics")
        // An unset variable names itself, the file, the line and the key.
        var e = configError { _ = try ServiceConfigLoader.services(inText: text, file: "/srv/svc.toml", environment: ["APP_DIR": "a", "EXTRA_COLUMN": "k"]) }
        #expect(e?.code == .invalidConfiguration)
        #expect(e?.message == "/srv/svc.toml:10: 'db_connect' in export_sql of [[service.routes]] #1 of service 'svc': environment variable 'PG_PASSWORD' is not set (write ${PG_PASSWORD:-default} for a default)")
        e = configError { _ = try ServiceConfigLoader.services(inText: "[[service]]\nname = \"${oops\"\n", file: "b.toml", environment: [:]) }
        #expect(e?.message == "b.toml:2: 'name' in [[service]] #1: '${' without a closing '}'")
        e = configError { _ = try ServiceConfigLoader.services(inText: "[[service]]\nname = \"${1X}\"\n", file: "b.toml", environment: ["1X": "v"]) }
        #expect(e?.message == "b.toml:2: 'name' in [[service]] #1: '${1X}' does not name an environment variable")
    }

    @Test func defaultsAreFastAPIRoutersDefaults() throws {
        let s = try #require(try ServiceConfigLoader.services(inText: "[[service]]\nname = \"svc\"\n", file: "s.toml").first)
        #expect(s.title == nil)
        #expect(s.prefix == "")
        #expect(s.host == "0.0.0.0")
        #expect(s.port == 8000)
        #expect(s.modules.isEmpty)
        #expect(s.routes.isEmpty)
        let one = "[[service]]\nname = \"svc\"\n[[service.routes]]\ntype = \"query\"\npath = \"/q\"\nquery = \"m:q\"\n"
        let q = try #require(try ServiceConfigLoader.services(inText: one, file: "s.toml").first?.routes.first)
        #expect(q.method == .post)
        #expect(!q.oneRow && !q.background && !q.returnFileResponse)
        #expect(q.inputs == nil)
        let e = "[[service]]\nname = \"svc\"\n[[service.routes]]\ntype = \"insert\"\ntable = \"t\"\npath = \"/i\"\n[service.routes.export_sql]\ndb_connect = \"x\"\ntable = \"y\"\n"
        let r = try #require(try ServiceConfigLoader.services(inText: e, file: "s.toml").first?.routes.first)
        #expect(r.exportSQL == SQLExport(dbConnect: "x", table: "y", dbSchema: nil, method: "insert"))
    }

    @Test func pixeltableSectionAndPyprojectSyntaxesAreEquivalent() throws {
        let top = try ServiceConfigLoader.services(inText: fullService, file: "/srv/a.toml")
        let sectioned = fullService.replacingOccurrences(of: "[[service]]", with: "[[pixeltable.service]]")
            .replacingOccurrences(of: "[[service.routes]]", with: "[[pixeltable.service.routes]]")
            .replacingOccurrences(of: "[service.routes.export_sql]", with: "[pixeltable.service.routes.export_sql]")
        let pyproject = "[project]\nname = \"myapp\"\nversion = \"1.0\"\n\n[tool.ruff]\nline-length = 100\n\n"
            + fullService.replacingOccurrences(of: "[[service]]", with: "[[tool.pixeltable.service]]")
            .replacingOccurrences(of: "[[service.routes]]", with: "[[tool.pixeltable.service.routes]]")
            .replacingOccurrences(of: "[service.routes.export_sql]", with: "[tool.pixeltable.service.routes.export_sql]")
        let a = try ServiceConfigLoader.services(inText: sectioned, file: "/srv/a.toml")
        let b = try ServiceConfigLoader.services(inText: pyproject, file: "/srv/a.toml")
        #expect(a.map(\.json) == top.map(\.json))
        #expect(b.map(\.json) == top.map(\.json))
        #expect(b[0].routes.map { $0.location?.line } == (1...5).map { lineOf("[[tool.pixeltable.service.routes]]", in: pyproject, occurrence: $0) })
        // Several services in one file, across the syntaxes.
        let both = "[[service]]\nname = \"one\"\n\n[[pixeltable.service]]\nname = \"two\"\n\n[[pixeltable.service]]\nname = \"three\"\n"
        #expect(try ServiceConfigLoader.services(inText: both, file: "b.toml").map(\.name) == ["one", "two", "three"])
        // A config file with other sections and no services declares none.
        #expect(try ServiceConfigLoader.services(inText: "[pixeltable]\nhide_warnings = true\n[openai]\napi_key = \"k\"\n", file: "c.toml").isEmpty)
    }

    @Test func routeAndServiceJSONKeepPydanticsKeyOrder() throws {
        let s = try ServiceConfigLoader.services(inText: fullService, file: "/srv/service.toml")[0]
        let json = s.json
        #expect(json.objectValue?.keys == ["name", "prefix", "host", "port", "modules", "routes"])
        let routes = try #require(json["routes"]?.arrayValue)
        let keys = routes.map { $0.objectValue?.keys ?? [] }
        #expect(keys[0] == ["path", "background", "type", "table", "inputs", "uploadfile_inputs", "outputs", "return_fileresponse", "export_sql"])
        #expect(keys[1] == ["path", "background", "type", "table", "inputs", "outputs", "return_fileresponse", "export_sql"])
        #expect(keys[2] == ["path", "background", "type", "table", "match_columns"])
        #expect(keys[3] == ["path", "background", "type", "query", "inputs", "uploadfile_inputs", "one_row", "return_fileresponse", "method"])
        #expect(keys[4] == keys[0])
        // Pixeltable's four keys, then ours: how rows are delivered.
        #expect(routes[0]["export_sql"] == ["db_connect": "sqlite:///out.db", "table": "films_log", "db_schema": "main", "method": "update", "delivery": "direct"])
        #expect(routes[0]["export_sql"]?.objectValue?.keys == ["db_connect", "table", "db_schema", "method", "delivery"])
        // Unset lists and export_sql are null; every default is written out.
        #expect(routes[1]["export_sql"] == .null)
        #expect(routes[2]["match_columns"] == ["title"])
        #expect(routes[4]["inputs"] == .null)
        #expect(routes[4]["return_fileresponse"] == false)
        #expect(routes[3]["method"] == "get")
        #expect(json["port"] == 9001)
        #expect(json["modules"] == ["app.films", "app.more"])
        // The pretty form that `--dry-run --json` prints starts as pydantic's model_dump_json.
        let pretty = JSONWriter(style: .pretty(indent: 2)).string(json)
        #expect(pretty.hasPrefix("{\n  \"name\": \"full-service\",\n  \"prefix\": \"/api\",\n  \"host\": \"127.0.0.1\",\n  \"port\": 9001,\n"))
        // A route built in code has the same shape.
        var r = RouteConfig(type: "delete", path: "/d")
        r.table = "t"
        #expect(r.json == ["path": "/d", "background": false, "type": "delete", "table": "t", "match_columns": .null])
    }

    /// A bad service file, the message it gives, and text on the line the error names.
    struct Invalid: Sendable, CustomTestStringConvertible {
        var text: String
        var message: String
        var at: String
        var testDescription: String { message }
    }

    static let route = "[[service]]\nname = \"svc\"\n\n[[service.routes]]\n"

    static let invalid: [Invalid] = [
        Invalid(text: "[[service]]\nname = \"svc\"\ntypo_key = 1\n", message: "unknown key 'typo_key' in [[service]] #1", at: "typo_key"),
        Invalid(text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\ntypo_key = 1\n", message: "unknown key 'typo_key' in [[service.routes]] #1 of service 'svc'", at: "typo_key"),
        Invalid(text: route + "type = \"delete\"\ntable = \"t\"\npath = \"/x\"\ninputs = [\"a\"]\n", message: "unknown key 'inputs'", at: "inputs"),
        Invalid(text: route + "type = \"query\"\nquery = \"m:q\"\npath = \"/x\"\ntable = \"t\"\n", message: "unknown key 'table'", at: "table ="),
        Invalid(text: route + "type = \"update\"\ntable = \"t\"\npath = \"/x\"\nuploadfile_inputs = [\"a\"]\n", message: "unknown key 'uploadfile_inputs'", at: "uploadfile_inputs"),
        Invalid(text: route + "type = \"insert\"\ntable = \"t\"\npath = \"no-slash\"\n", message: "path must start with '/' (got 'no-slash')", at: "no-slash"),
        Invalid(text: "[[service]]\nname = \"svc\"\nprefix = \"api\"\n", message: "prefix must be empty or start with '/' (got 'api')", at: "prefix"),
        Invalid(text: route + "type = \"upsert\"\ntable = \"t\"\npath = \"/x\"\n", message: "route type 'upsert' in [[service.routes]] #1 of service 'svc' is not one of 'insert', 'update', 'delete', 'query'", at: "upsert"),
        Invalid(text: route + "table = \"t\"\npath = \"/x\"\n", message: "missing required key 'type'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"insert\"\npath = \"/x\"\n", message: "missing required key 'table' in [[service.routes]] #1 of service 'svc'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"update\"\npath = \"/x\"\n", message: "missing required key 'table'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"delete\"\npath = \"/x\"\n", message: "missing required key 'table'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"query\"\npath = \"/x\"\n", message: "missing required key 'query' in [[service.routes]] #1 of service 'svc'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"insert\"\ntable = \"t\"\n", message: "missing required key 'path'", at: "[[service.routes]]"),
        Invalid(text: route + "type = \"query\"\nquery = \"m:q\"\npath = \"/x\"\nmethod = \"put\"\n", message: "method must be \"get\" or \"post\", not \"put\"", at: "method"),
        Invalid(
            text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\n[service.routes.export_sql]\ndb_connect = \"x\"\ntable = \"y\"\nbogus = 1\n",
            message: "unknown key 'bogus' in export_sql of [[service.routes]] #1", at: "bogus"),
        Invalid(
            text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\n[service.routes.export_sql]\ndb_connect = \"x\"\ntable = \"y\"\nmethod = \"bogus\"\n",
            message: "input_value='bogus'", at: "method"),
        Invalid(
            text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\n[service.routes.export_sql]\ndb_connect = \"x\"\ntable = \"y\"\ndelivery = \"later\"\n",
            message: "export_sql delivery must be 'direct' or 'outbox' [input_value='later']", at: "delivery ="),
        Invalid(
            text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\n[service.routes.export_sql]\ndb_connect = \"x\"\n", message: "missing required key 'table' in export_sql",
            at: "[service.routes.export_sql]"),
        Invalid(text: "[[service]]\nname = \"svc\"\n\n[[service]]  # again\nname = \"svc\"\n", message: "Duplicate `ServiceConfig` name 'svc' in config file: bad.toml", at: "# again"),
        Invalid(text: "[[service]]\nname = \"not valid!\"\n", message: "'not valid!' is not a valid Pixeltable identifier", at: "name"),
        Invalid(text: "[[service]]\nname = \"_hidden\"\n", message: "'_hidden' is not a valid Pixeltable identifier", at: "name"),
        Invalid(text: "[[service]]\nname = \"-dash\"\n", message: "'-dash' is not a valid Pixeltable identifier", at: "name"),
        Invalid(text: "[[service]]\nport = 1\n", message: "missing required key 'name'", at: "[[service]]"),
        Invalid(text: "[[service]]\nname = \"svc\"\nport = \"8000\"\n", message: "'port' in [[service]] #1 must be an integer", at: "port"),
        Invalid(text: "[[service]]\nname = \"svc\"\nmodules = \"app\"\n", message: "'modules' in [[service]] #1 must be a list of strings", at: "modules"),
        Invalid(text: route + "type = \"insert\"\ntable = \"t\"\npath = \"/x\"\nbackground = \"yes\"\n", message: "'background' in [[service.routes]] #1 of service 'svc' must be true or false", at: "background"),
        Invalid(text: "[service]\nname = \"svc\"\n", message: "Invalid type for option 'service' in config file: bad.toml\n(expected `list`, got `dict`)", at: "[service]"),
        Invalid(text: "[pixeltable.service]\nname = \"svc\"\n", message: "Invalid type for option 'pixeltable.service'", at: "[pixeltable.service]"),
        Invalid(text: "[[service]]\nname = \"svc\"\nport = \n", message: "", at: "port"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\npublic = [\"/docs\"]\n", message: "needs api_keys, jwt or both", at: "[service.auth]"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\napi_keys = [\"\"]\n", message: "api_keys[0] in [service.auth] of service 'svc' is empty", at: "api_keys"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\napi_keys = [1]\n", message: "must be a key string or a { key, routes } table", at: "api_keys"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\napi_keys = [{ key = \"k\", routes = [\"films\"] }]\n", message: "route 'films' in api_keys[0] must start with '/'", at: "api_keys"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\napi_key = [\"k\"]\n", message: "unknown key 'api_key' in [service.auth] of service 'svc'; did you mean 'api_keys'?", at: "api_key"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\njwt = { secret = \"short\" }\n", message: "jwt secret must be at least 32 bytes", at: "jwt"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.auth]\njwt = { issuer = \"me\" }\n", message: "jwt needs secret (HS256) or public_key_file", at: "jwt"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.cors]\nallow_origins = [\"*\"]\nallow_credentials = true\n", message: "allow_credentials cannot be used with allow_origins = [\"*\"]", at: "[service.cors]"),
        Invalid(text: "[[service]]\nname = \"svc\"\n[service.cors]\nallow_origin = [\"*\"]\n", message: "did you mean 'allow_origins'?", at: "allow_origin"),
        Invalid(text: "[[service]]\nname = \"svc\"\nheader_timeout = 0\n", message: "'header_timeout' in [[service]] #1 must be a positive number of seconds", at: "header_timeout"),
        Invalid(text: "[[service]]\nname = \"svc\"\nidle_timeout = \"60s\"\n", message: "'idle_timeout' in [[service]] #1 must be a number of seconds", at: "idle_timeout"),
        Invalid(text: "[[service]]\nname = \"svc\"\nmax_connections = -1\n", message: "max_connections must be a positive number (got -1)", at: "max_connections"),
    ]

    @Test(arguments: invalid)
    func invalidServiceFilesNameTheFileTheLineAndTheKey(_ c: Invalid) throws {
        let e = try #require(configError { _ = try ServiceConfigLoader.services(inText: c.text, file: "bad.toml") })
        #expect(e.code == .invalidConfiguration)
        #expect(e.message.hasPrefix("bad.toml:\(lineOf(c.at, in: c.text)):"), "\(e.message)")
        #expect(c.message.isEmpty || e.message.contains(c.message), "\(e.message)")
    }

    @Test func authCORSAndLimitsAreReadWithSecretsMaskedInTheJSON() throws {
        let text = """
            [[service]]
            name = "svc"
            max_body_bytes = 1048576
            max_nesting_depth = 32
            header_timeout = 10
            body_timeout = 120.5
            idle_timeout = 30
            max_connections = 500

            [service.auth]
            api_keys = ["${API_KEY_1}", { key = "${READER_KEY}", routes = ["/lookup"] }]
            jwt = { secret = "${JWT_SECRET}", issuer = "idp", audience = "films" }
            public = ["/docs", "/openapi.json"]
            media_url_lifetime = 600

            [service.cors]
            allow_origins = ["https://app.example.com"]
            allow_methods = ["get", "post"]
            allow_credentials = true
            """
        let env = ["API_KEY_1": "first-key-0123456789", "READER_KEY": "reader-key-0123456789", "JWT_SECRET": "jwt-secret-of-at-least-thirty-two-bytes"]
        let s = try #require(try ServiceConfigLoader.services(inText: text, file: "/srv/svc.toml", environment: env).first)
        let auth = try #require(s.auth)
        #expect(auth.apiKeys == [APIKey("first-key-0123456789"), APIKey("reader-key-0123456789", routes: ["/lookup"])])
        #expect(auth.jwt?.secret == "jwt-secret-of-at-least-thirty-two-bytes" && auth.jwt?.issuer == "idp" && auth.jwt?.audience == "films")
        #expect(auth.publicPaths == ["/docs", "/openapi.json"] && auth.mediaURLLifetime == 600)
        #expect(s.cors == CORSPolicy(allowOrigins: ["https://app.example.com"], allowMethods: ["GET", "POST"], allowCredentials: true))
        let c = s.limits.applied(to: ServiceRouter.Configuration())
        #expect(c.maxBodyBytes == 1 << 20 && c.maxNestingDepth == 32 && c.maxConnections == 500)
        #expect(c.headerTimeout == .seconds(10) && c.bodyTimeout == .milliseconds(120_500) && c.idleTimeout == .seconds(30))
        // What --dry-run --json shows: every secret as ***.
        let json = JSONWriter.compact.string(s.json)
        for secret in env.values { #expect(!json.contains(secret), "\(json)") }
        #expect(s.json["auth"]?["api_keys"]?[0]?["key"] == "***")
        #expect(s.json["auth"]?["jwt"]?["secret"] == "***")
        #expect(s.json["idle_timeout"] == .double(30))
        // Defaults when nothing is set.
        let d = ServiceRouter.Configuration()
        #expect(d.idleTimeout == .seconds(60) && d.headerTimeout == .seconds(30) && d.maxBodyBytes == 16 << 20)
    }

    @Test func validateChecksWhatFlagsCanGetWrong() throws {
        var s = ServiceConfig(name: "pxt-serve")
        try s.validate()
        s.prefix = "api"
        #expect(configError { try s.validate() }?.message == "prefix must be empty or start with '/' (got 'api')")
        s.prefix = "/api"
        s.port = 70000
        #expect(configError { try s.validate() }?.message == "port must be between 0 and 65535 (got 70000)")
        s.port = 0
        s.routes = [RouteConfig(type: "insert", path: "ins")]
        #expect(configError { try s.validate() }?.message == "path must start with '/' (got 'ins')")
        s.routes = []
        s.name = "has space"
        #expect(configError { try s.validate() }?.message == "'has space' is not a valid Pixeltable identifier")
        for good in ["svc", "my-service", "a1_b-2", "Service"] { #expect(ServiceConfig.isValidName(good), "\(good)") }
        for bad in ["", "_x", "-x", "1abc", "a.b", "a b", "a/b"] { #expect(!ServiceConfig.isValidName(bad), "\(bad)") }
    }
}

@Suite struct ServiceConfigSourcesTests {
    @Test func sourcesAreSearchedInPrecedenceOrder() {
        let scratch = ConfigScratch()
        defer { scratch.remove() }
        let home = scratch.home
        var sources = ServiceConfigLoader.sources(configFiles: ["/x/a.toml", "/x/b.toml"], directory: "/proj", home: home, environment: [:])
        #expect(sources == ["/x/b.toml", "/x/a.toml", "/proj/pixeltable.toml", "/proj/pyproject.toml", home.path + "/config.toml"])
        sources = ServiceConfigLoader.sources(configFiles: [], directory: "/proj", home: home, environment: ["PIXELTABLE_CONFIG": "/etc/pxt.toml"])
        #expect(sources == ["/proj/pixeltable.toml", "/proj/pyproject.toml", "/etc/pxt.toml"])
        sources = ServiceConfigLoader.sources(configFiles: [], directory: "/proj", home: home, environment: ["PIXELTABLE_CONFIG": ""])
        #expect(sources.last == home.configFile)
    }

    /// A service named `name` that says where it was declared through its port.
    func service(_ name: String, port: Int, section: String = "service") -> String {
        "[[\(section)]]\nname = \"\(name)\"\nport = \(port)\n\n"
    }

    @Test func theHighestPrecedenceDeclarationOfAServiceWins() throws {
        let s = ConfigScratch()
        defer { s.remove() }
        let a = try s.write("a.toml", service("svc", port: 1) + service("only-a", port: 11))
        let b = try s.write("b.toml", service("svc", port: 2))
        try s.write("project/pixeltable.toml", service("svc", port: 3, section: "pixeltable.service") + service("local", port: 33, section: "pixeltable.service"))
        try s.write("project/pyproject.toml", "[project]\nname = \"p\"\n\n" + service("svc", port: 4, section: "tool.pixeltable.service") + service("py", port: 44, section: "tool.pixeltable.service"))
        try s.write("home/config.toml", "[pixeltable]\nhide_warnings = true\n\n" + service("svc", port: 5, section: "pixeltable.service") + service("user", port: 55, section: "pixeltable.service"))
        let other = try s.write("other.toml", service("svc", port: 6) + service("env", port: 66))
        func port(_ name: String, _ files: [String], env: [String: String] = [:]) throws -> Int {
            try ServiceConfigLoader.lookup(name, configFiles: files, directory: s.project, home: s.home, environment: env).port
        }
        // --config files first, the last one given winning.
        #expect(try port("svc", [a, b]) == 2)
        #expect(try port("svc", [b, a]) == 1)
        #expect(try port("only-a", [b, a]) == 11)
        // Then ./pixeltable.toml, ./pyproject.toml and the user config.
        #expect(try port("svc", []) == 3)
        #expect(try port("local", [a]) == 33)
        #expect(try port("py", []) == 44)
        #expect(try port("user", []) == 55)
        try FileManager.default.removeItem(atPath: s.project + "/pixeltable.toml")
        #expect(try port("svc", []) == 4)
        try FileManager.default.removeItem(atPath: s.project + "/pyproject.toml")
        #expect(try port("svc", []) == 5)
        // PIXELTABLE_CONFIG replaces the home's config.toml.
        #expect(try port("svc", [], env: ["PIXELTABLE_CONFIG": other]) == 6)
        #expect(try port("env", [], env: ["PIXELTABLE_CONFIG": other]) == 66)
        #expect(configError { _ = try port("user", [], env: ["PIXELTABLE_CONFIG": other]) }?.code == .serviceNotFound)
        // A service's modules and queries resolve next to the file that declared it.
        let found = try ServiceConfigLoader.lookup("only-a", configFiles: [a], directory: s.project, home: s.home, environment: [:])
        #expect(found.directory == s.root)
        #expect(found.file == a)
    }

    @Test func lookupErrors() throws {
        let s = ConfigScratch()
        defer { s.remove() }
        var e = try #require(configError { _ = try ServiceConfigLoader.lookup("svc", configFiles: [], directory: s.project, home: s.home, environment: [:]) })
        #expect(e.code == .serviceNotFound)
        #expect(e.message == "No services found in Pixeltable configuration.")
        let a = try s.write("a.toml", service("alpha", port: 1) + service("beta", port: 2))
        try s.write("project/pixeltable.toml", service("gamma", port: 3, section: "pixeltable.service") + service("alpha", port: 4, section: "pixeltable.service"))
        e = try #require(configError { _ = try ServiceConfigLoader.lookup("x", configFiles: [a], directory: s.project, home: s.home, environment: [:]) })
        #expect(e.code == .serviceNotFound)
        #expect(e.message == "Service 'x' not found. The following services are configured:\nalpha, beta, gamma")
        #expect(e.httpStatus == 404)
        e = try #require(configError { _ = try ServiceConfigLoader.lookup("x", configFiles: [s.root + "/missing.toml"], directory: s.project, home: s.home, environment: [:]) })
        #expect(e.code == .invalidConfiguration)
        #expect(e.message == "Could not read config file: \(s.root)/missing.toml")
        // A broken file among the sources is reported with its path and line.
        try s.write("project/pyproject.toml", "[[tool.pixeltable.service]]\nname = \"p\"\ntypo_key = true\n")
        e = try #require(configError { _ = try ServiceConfigLoader.lookup("alpha", configFiles: [], directory: s.project, home: s.home, environment: [:]) })
        #expect(e.message.hasPrefix("\(s.project)/pyproject.toml:3: unknown key 'typo_key'"), "\(e.message)")
        #expect(configError { _ = try ServiceConfigLoader.services(inFile: s.root + "/none.toml") }?.message == "Could not read config file: \(s.root)/none.toml")
    }
}

/// The films module used by the service-building tests.
private let filmsModule = """
    [[dir]]
    path = "app"

    [[table]]
    path = "app/films"
    primary_key = ["id"]

    [table.columns]
    id     = { type = "Int", comment = "Film id" }
    title  = "Required[String]"
    year   = "Int"

    [[table.computed]]
    name = "title_upper"
    expr = "title.upper()"

    [[query]]
    name      = "lookup"
    table     = "app/films"
    retrieval = ["id"]

    [[query]]
    name     = "by_year"
    table    = "app/films"
    params   = { year = "Int" }
    select   = ["id", "title"]
    where    = "year == :year"
    order_by = ["id"]
    """

@Suite struct ServiceBuilderTests {
    func serviceFile(_ routes: String, modules: String = "[\"app.films\"]") -> String {
        "[[service]]\nname = \"films\"\nmodules = \(modules)\n\n" + routes
    }

    static let routes = """
        [[service.routes]]
        type = "insert"
        table = "app/films"
        path = "/films"

        [[service.routes]]
        type = "query"
        path = "/lookup"
        query = "app.films.lookup"
        one_row = true
        method = "get"

        [[service.routes]]
        type = "query"
        path = "/by-year"
        query = "app.films:by_year"

        [[service.routes]]
        type = "delete"
        table = "app.films"
        path = "/films/delete"
        """

    @Test func buildAppliesModulesAndResolvesQueryReferences() async throws {
        let s = ConfigScratch()
        defer { s.remove() }
        try s.write("svc/app/films.toml", filmsModule)
        let file = try s.write("svc/service.toml", serviceFile(Self.routes))
        let config = try #require(try ServiceConfigLoader.services(inFile: file).first)
        let catalog = try Catalog.open(home: s.home)
        let router = try await ServiceBuilder.build(config, catalog: catalog)
        #expect(router.routeCount == 4)
        // The module was applied: its table exists.
        #expect(try await catalog.kind(of: "app/films") == .table)
        let doc = router.openAPIDocument
        #expect(doc["info"]?["title"] == "films")
        let paths = Set(doc["paths"]?.objectValue?.keys ?? [])
        #expect(paths.isSuperset(of: ["/films", "/lookup", "/by-year", "/films/delete"]))

        let server = try await RunningServer.start(router)
        var r = try await http(server.port, "POST", "/films", json: ["id": 1, "title": "Alien", "year": 1979])
        #expect(r.json == ["id": 1, "title": "Alien", "year": 1979, "title_upper": "ALIEN"])
        _ = try await http(server.port, "POST", "/films", json: ["id": 2, "title": "Brazil", "year": 1985])
        r = try await http(server.port, "GET", "/lookup?id=2")
        #expect(r.json["title_upper"] == "BRAZIL")
        r = try await http(server.port, "POST", "/by-year", json: ["year": 1979])
        #expect(r.json == ["rows": [["id": 1, "title": "Alien"]]])
        r = try await http(server.port, "POST", "/films/delete", json: ["id": 1])
        #expect(r.json == ["num_rows": 1])
        await server.stop()

        // Building again over the same catalog applies nothing new.
        let t = try await catalog.table("app/films")
        let history = try await t.history()
        _ = try await ServiceBuilder.build(config, catalog: catalog)
        #expect(try await t.history() == history)
        // The title comes from the service file when set.
        var titled = config
        titled.title = "My films"
        #expect(try await ServiceBuilder.build(titled, catalog: catalog).openAPIDocument["info"]?["title"] == "My films")
    }

    /// A query route with the given reference, what building it answers, and whether the
    /// message is prefixed with the route's location.
    static let badReferences: [(String, String)] = [
        ("nodots", "invalid query reference 'nodots': expected module.attribute or module:attribute"),
        ("app.nope:lookup", "could not import module 'app.nope': no file "),
        ("app.nope.lookup", "could not import module 'app.nope'"),
        ("app.films.nope", "'app.films.nope': module 'app.films' has no query 'nope' (it has: lookup, by_year)"),
        ("app.films:nope", "module 'app.films' has no query 'nope'"),
    ]

    @Test(arguments: 0..<5)
    func badQueryReferencesAreReportedAtTheirRoute(_ index: Int) async throws {
        let (reference, message) = Self.badReferences[index]
        let s = ConfigScratch()
        defer { s.remove() }
        try s.write("svc/app/films.toml", filmsModule)
        let text = serviceFile("[[service.routes]]\ntype = \"insert\"\ntable = \"app/films\"\npath = \"/ok\"\n\n[[service.routes]]\ntype = \"query\"\npath = \"/q\"\nquery = \"\(reference)\"\n")
        let file = try s.write("svc/service.toml", text)
        let config = try #require(try ServiceConfigLoader.services(inFile: file).first)
        let e = try #require(await configErrorAsync { _ = try await ServiceBuilder.build(config, catalog: try Catalog.open(home: s.home)) })
        #expect(e.message.hasPrefix("\(file):\(lineOf("[[service.routes]]", in: text, occurrence: 2)): "), "\(e.message)")
        #expect(e.message.contains(message), "\(e.message)")
        #expect(e.code == (reference == "nodots" ? .invalidArgument : .invalidConfiguration))
    }

    @Test func otherBuildErrors() async throws {
        let s = ConfigScratch()
        defer { s.remove() }
        try s.write("svc/app/films.toml", filmsModule)
        let catalog = try Catalog.open(home: s.home)
        func build(_ text: String) async throws -> PixeltableError? {
            let file = try s.write("svc/service.toml", text)
            let config = try #require(try ServiceConfigLoader.services(inFile: file).first)
            return await configErrorAsync { _ = try await ServiceBuilder.build(config, catalog: catalog) }
        }
        // A module that is nowhere to be found.
        var e = try #require(try await build(serviceFile("", modules: "[\"app.missing\"]")))
        #expect(e.message.hasPrefix("could not import module 'app.missing': no file \(s.root)/svc/app/missing.toml"), "\(e.message)")
        // A module that does not apply.
        try s.write("svc/app/broken.toml", "[[table]]\npath = \"b\"\n[table.columns]\nx = \"Int\"\n[[table.computed]]\nname = \"y\"\nexpr = \"xx + 1\"\n")
        e = try #require(try await build(serviceFile("", modules: "[\"app.broken\"]")))
        #expect(e.message.hasPrefix("\(s.root)/svc/app/broken.toml:7:9: "), "\(e.message)")
        // A table that does not exist, and a route the router refuses.
        let missing = "[[service.routes]]\ntype = \"insert\"\ntable = \"app/nope\"\npath = \"/x\"\n"
        e = try #require(try await build(serviceFile(missing)))
        #expect(e.message.hasPrefix("\(s.root)/svc/service.toml:5: "), "\(e.message)")
        #expect(e.code == .pathNotFound || e.code == .tableNotFound, "\(e)")
        let unknownInput = "[[service.routes]]\ntype = \"insert\"\ntable = \"app/films\"\npath = \"/x\"\ninputs = [\"nope\"]\n"
        e = try #require(try await build(serviceFile(unknownInput)))
        #expect(e.message == "\(s.root)/svc/service.toml:5: add_insert_route(): unknown input column 'nope'")
        let duplicate = "[[service.routes]]\ntype = \"insert\"\ntable = \"app/films\"\npath = \"/x\"\n\n[[service.routes]]\ntype = \"update\"\ntable = \"app/films\"\npath = \"/x\"\n"
        e = try #require(try await build(serviceFile(duplicate)))
        #expect(e.message == "\(s.root)/svc/service.toml:10: route already registered: POST '/x'")
        // A prefix applies to every route.
        let prefixed = "[[service]]\nname = \"films\"\nprefix = \"/v1\"\nmodules = [\"app.films\"]\n\n[[service.routes]]\ntype = \"insert\"\ntable = \"app/films\"\npath = \"/x\"\n"
        let file = try s.write("svc/service.toml", prefixed)
        let router = try await ServiceBuilder.build(try #require(try ServiceConfigLoader.services(inFile: file).first), catalog: catalog)
        #expect(router.prefix == "/v1")
        #expect(router.openAPIDocument["paths"]?["/v1/x"] != nil)
    }
}

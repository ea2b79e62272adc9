import Foundation
import Pixeltable

/// One route of a service file (`[[service.routes]]`).
public struct RouteConfig: Sendable, Hashable {
    /// `insert`, `update`, `delete` or `query` (`compute` is accepted as an alias of insert).
    public var type: String
    public var path: String
    public var background: Bool = false
    public var table: String?
    public var query: String?
    public var inputs: [String]?
    public var uploadFileInputs: [String]?
    public var outputs: [String]?
    public var returnFileResponse: Bool = false
    public var exportSQL: SQLExport?
    public var matchColumns: [String]?
    public var oneRow: Bool = false
    public var method: QueryMethod = .post
    /// Where the route is declared (for messages); `nil` for routes built from flags.
    public var location: FileLocation?

    /// A route of the given type at `path`.
    public init(type: String, path: String) {
        self.type = type
        self.path = path
    }

    /// The route as `model_dump`: `path, background, type`, then the type's own fields, with
    /// nulls for unset lists.
    public var json: JSONValue {
        func list(_ l: [String]?) -> JSONValue { l.map { .array($0.map { .string($0) }) } ?? .null }
        var o: JSONObject = ["path": .string(path), "background": .bool(background), "type": .string(type)]
        switch type {
        case "insert", "compute":
            o["table"] = table.map { .string($0) } ?? .null
            o["inputs"] = list(inputs)
            o["uploadfile_inputs"] = list(uploadFileInputs)
            o["outputs"] = list(outputs)
            o["return_fileresponse"] = .bool(returnFileResponse)
            o["export_sql"] = exportSQL.map(Self.exportJSON) ?? .null
        case "update":
            o["table"] = table.map { .string($0) } ?? .null
            o["inputs"] = list(inputs)
            o["outputs"] = list(outputs)
            o["return_fileresponse"] = .bool(returnFileResponse)
            o["export_sql"] = exportSQL.map(Self.exportJSON) ?? .null
        case "delete":
            o["table"] = table.map { .string($0) } ?? .null
            o["match_columns"] = list(matchColumns)
        default:
            o["query"] = query.map { .string($0) } ?? .null
            o["inputs"] = list(inputs)
            o["uploadfile_inputs"] = list(uploadFileInputs)
            o["one_row"] = .bool(oneRow)
            o["return_fileresponse"] = .bool(returnFileResponse)
            o["method"] = .string(method.rawValue)
        }
        return .object(o)
    }

    static func exportJSON(_ e: SQLExport) -> JSONValue {
        // The connection string's password is never shown (`--dry-run`, `pxt config`).
        [
            "db_connect": .string(Redaction.url(e.dbConnect)), "table": .string(e.table), "db_schema": e.dbSchema.map { .string($0) } ?? .null,
            "method": .string(e.method),
            "delivery": .string(e.delivery.rawValue),
        ]
    }
}

/// A service: routes plus where and how to serve them (`[[service]]`).
public struct ServiceConfig: Sendable, Hashable {
    public var name: String
    /// The OpenAPI title; the service name when absent.
    public var title: String?
    public var prefix: String = ""
    public var host: String = "0.0.0.0"
    public var port: Int = 8000
    /// Module files applied at start (`myapp.schema` is `myapp/schema.toml`).
    public var modules: [String] = []
    public var routes: [RouteConfig] = []
    /// The largest upload request accepted (`max_upload_bytes`); `nil` for the default, 100 MiB.
    public var maxUploadBytes: Int?
    /// `[service.auth]`: who may call the routes; `nil` for anyone.
    public var auth: ServiceAuth?
    /// `[service.cors]`: which other web origins may call the routes; `nil` for none.
    public var cors: CORSPolicy?
    /// `max_body_bytes`, `max_nesting_depth`, `header_timeout`, `body_timeout`, `idle_timeout` and
    /// `max_connections`: the keys set in the file, as the router's configuration applies them.
    public var limits = Limits()

    /// The connection and request limits a service file may set; `nil` keeps the default of
    /// ``ServiceRouter/Configuration``.
    public struct Limits: Sendable, Hashable {
        /// `max_body_bytes`: the largest JSON request body.
        public var maxBodyBytes: Int?
        /// `max_nesting_depth`: the deepest arrays and objects of a JSON request body.
        public var maxNestingDepth: Int?
        /// `header_timeout`, seconds: to send the request line and headers.
        public var headerTimeout: Double?
        /// `body_timeout`, seconds: to send the body once the headers are in.
        public var bodyTimeout: Double?
        /// `idle_timeout`, seconds: a connection on which nothing is read is closed.
        public var idleTimeout: Double?
        /// `max_connections`: connections served at once.
        public var maxConnections: Int?

        /// No limit set.
        public init() {}

        /// `configuration` with the limits set here applied.
        public func applied(to configuration: ServiceRouter.Configuration) -> ServiceRouter.Configuration {
            var c = configuration
            if let maxBodyBytes { c.maxBodyBytes = maxBodyBytes }
            if let maxNestingDepth { c.maxNestingDepth = maxNestingDepth }
            if let headerTimeout { c.headerTimeout = .milliseconds(Int64(headerTimeout * 1000)) }
            if let bodyTimeout { c.bodyTimeout = .milliseconds(Int64(bodyTimeout * 1000)) }
            if let idleTimeout { c.idleTimeout = .milliseconds(Int64(idleTimeout * 1000)) }
            if let maxConnections { c.maxConnections = maxConnections }
            return c
        }

        var json: [(String, JSONValue)] {
            var out: [(String, JSONValue)] = []
            if let maxBodyBytes { out.append(("max_body_bytes", .int(Int64(maxBodyBytes)))) }
            if let maxNestingDepth { out.append(("max_nesting_depth", .int(Int64(maxNestingDepth)))) }
            if let headerTimeout { out.append(("header_timeout", .double(headerTimeout))) }
            if let bodyTimeout { out.append(("body_timeout", .double(bodyTimeout))) }
            if let idleTimeout { out.append(("idle_timeout", .double(idleTimeout))) }
            if let maxConnections { out.append(("max_connections", .int(Int64(maxConnections)))) }
            return out
        }
    }
    /// The file the service was declared in, if any.
    public var file: String?
    /// The directory module names and query references are resolved in first.
    public var directory: String

    /// A service with no routes.
    public init(name: String, directory: String = FileManager.default.currentDirectoryPath) {
        self.name = name
        self.directory = directory
    }

    /// The service as `model_dump`: `name, prefix, host, port, modules, routes`.
    public var json: JSONValue {
        var o: JSONObject = [
            "name": .string(name), "prefix": .string(prefix), "host": .string(host), "port": .int(Int64(port)),
            "modules": .array(modules.map { .string($0) }),
        ]
        if let maxUploadBytes { o["max_upload_bytes"] = .int(Int64(maxUploadBytes)) }
        for (k, v) in limits.json { o[k] = v }
        // Secrets are shown as "***".
        if let auth { o["auth"] = auth.json }
        if let cors { o["cors"] = cors.json }
        o["routes"] = .array(routes.map(\.json))
        return .object(o)
    }

    /// Whether `name` is a valid service name: an identifier, hyphens allowed, not starting
    /// with `-` or `_`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first != "-", first != "_" else { return false }
        let body = name.replacingOccurrences(of: "-", with: "_")
        guard let f = body.first, f.isLetter || f == "_" else { return false }
        return body.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// Checks the fields a config file or command line can get wrong.
    public func validate() throws(PixeltableError) {
        guard Self.isValidName(name) else { throw PixeltableError(.invalidConfiguration, "'\(name)' is not a valid Pixeltable identifier") }
        guard prefix.isEmpty || prefix.hasPrefix("/") else {
            throw PixeltableError(.invalidConfiguration, "prefix must be empty or start with '/' (got '\(prefix)')")
        }
        guard port >= 0 && port < 65536 else { throw PixeltableError(.invalidConfiguration, "port must be between 0 and 65535 (got \(port))") }
        if let m = maxUploadBytes, m < 1 { throw PixeltableError(.invalidConfiguration, "max_upload_bytes must be positive (got \(m))") }
        try auth?.validate()
        try cors?.validate()
        for r in routes where !r.path.hasPrefix("/") {
            throw PixeltableError(.invalidConfiguration, "\(r.location.map { "\($0): " } ?? "")path must start with '/' (got '\(r.path)')")
        }
    }
}

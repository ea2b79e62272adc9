import Foundation
import Pixeltable

/// Reads services from TOML: `--config` files, `./pixeltable.toml`, `./pyproject.toml`
/// (`[[tool.pixeltable.service]]`) and the user config file (`PIXELTABLE_CONFIG` or
/// `$PIXELTABLE_HOME/config.toml`), highest precedence first.
public enum ServiceConfigLoader {
    /// The files searched for services, highest precedence first.
    public static func sources(configFiles: [String], directory: String, home: HomeDirectory, environment: [String: String]) -> [String] {
        var out: [String] = configFiles.reversed().map { HomeDirectory.absolute($0) }
        out.append(directory + "/pixeltable.toml")
        out.append(directory + "/pyproject.toml")
        out.append(environment["PIXELTABLE_CONFIG"].flatMap { $0.isEmpty ? nil : HomeDirectory.absolute($0) } ?? home.configFile)
        return out
    }

    /// Finds the service `name`.
    ///
    /// - Parameter configFiles: `--config` files; each must exist.
    public static func lookup(
        _ name: String, configFiles: [String], directory: String = FileManager.default.currentDirectoryPath, home: HomeDirectory,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PixeltableError) -> ServiceConfig {
        for f in configFiles where !FileManager.default.fileExists(atPath: HomeDirectory.absolute(f)) {
            throw PixeltableError(.invalidConfiguration, "Could not read config file: \(f)")
        }
        var all: [ServiceConfig] = []
        for file in sources(configFiles: configFiles, directory: directory, home: home, environment: environment) {
            guard FileManager.default.fileExists(atPath: file) else { continue }
            for s in try services(inFile: file, environment: environment) where !all.contains(where: { $0.name == s.name }) {
                all.append(s)
            }
        }
        if all.isEmpty { throw PixeltableError(.serviceNotFound, "No services found in Pixeltable configuration.") }
        guard let s = all.first(where: { $0.name == name }) else {
            throw PixeltableError(.serviceNotFound, "Service '\(name)' not found. The following services are configured:\n\(all.map(\.name).joined(separator: ", "))")
        }
        return s
    }

    /// Every service a file declares.
    ///
    /// - Parameter environment: Replaces `${NAME}` and `${NAME:-default}` in every string of
    ///   the services (see ``EnvironmentSubstitution``).
    public static func services(
        inFile file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PixeltableError) -> [ServiceConfig] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw PixeltableError(.invalidConfiguration, "Could not read config file: \(file)")
        }
        return try services(inText: text, file: file, environment: environment)
    }

    /// Every service in TOML text.
    ///
    /// - Parameter environment: Replaces `${NAME}` and `${NAME:-default}` in every string of
    ///   the services (see ``EnvironmentSubstitution``).
    public static func services(
        inText text: String, file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PixeltableError) -> [ServiceConfig] {
        let root: TOMLTable
        do { root = try TOMLParser.parse(text, file: file) } catch {
            throw PixeltableError(.invalidConfiguration, "\(file):\(error.line):\(error.column): \(error.message)")
        }
        let reader = TOMLReader(root, file: file, context: "the config file", line: 1, environment: environment)
        var holders: [(TOMLReader, String)] = [(reader, "service")]
        if let p = try reader.subtable("pixeltable", context: "[pixeltable]") { holders.append((p, "pixeltable.service")) }
        if let tool = try reader.subtable("tool", context: "[tool]"), let p = try tool.subtable("pixeltable", context: "[tool.pixeltable]") {
            holders.append((p, "tool.pixeltable.service"))
        }
        var out: [ServiceConfig] = []
        let dir = (HomeDirectory.absolute(file) as NSString).deletingLastPathComponent
        for (holder, key) in holders {
            guard let node = holder.table["service"] else { continue }
            if case .table = node.value {
                throw holder.error("Invalid type for option '\(key)' in config file: \(file)\n(expected `list`, got `dict`); write [[\(key)]]", line: node.line)
            }
            for s in try holder.tables("service", context: { "[[\(key)]] #\($0 + 1)" }) {
                let svc = try service(s, key: key, directory: dir, file: file)
                if out.contains(where: { $0.name == svc.name }) {
                    throw s.error("Duplicate `ServiceConfig` name '\(svc.name)' in config file: \(file)")
                }
                out.append(svc)
            }
        }
        return out
    }

    static func service(_ r: TOMLReader, key: String, directory: String, file: String) throws(PixeltableError) -> ServiceConfig {
        try r.checkKeys([
            "name", "title", "prefix", "host", "port", "modules", "routes", "max_upload_bytes", "auth", "cors", "max_body_bytes", "max_nesting_depth",
            "header_timeout", "body_timeout", "idle_timeout", "max_connections",
        ])
        let name = try r.string("name", required: true)!
        var s = ServiceConfig(name: name, directory: directory)
        s.file = file
        guard ServiceConfig.isValidName(name) else { throw r.error("'\(name)' is not a valid Pixeltable identifier", line: r.table["name"]?.line) }
        s.title = try r.string("title")
        s.prefix = try r.string("prefix") ?? ""
        guard s.prefix.isEmpty || s.prefix.hasPrefix("/") else {
            throw r.error("prefix must be empty or start with '/' (got '\(s.prefix)')", line: r.table["prefix"]?.line)
        }
        s.host = try r.string("host") ?? "0.0.0.0"
        s.port = try r.int("port") ?? 8000
        s.modules = try r.stringList("modules") ?? []
        if let m = try r.int("max_upload_bytes") {
            guard m > 0 else { throw r.error("max_upload_bytes must be a positive number of bytes (got \(m))", line: r.table["max_upload_bytes"]?.line) }
            s.maxUploadBytes = m
        }
        s.limits = try limits(r)
        if let a = try r.subtable("auth", context: "[service.auth] of service '\(name)'") { s.auth = try ServiceSecurityConfig.auth(a) }
        if let c = try r.subtable("cors", context: "[service.cors] of service '\(name)'") { s.cors = try ServiceSecurityConfig.cors(c) }
        for route in try r.tables("routes", context: { "[[\(key).routes]] #\($0 + 1) of service '\(name)'" }) {
            s.routes.append(try self.route(route, file: file))
        }
        return s
    }

    static func limits(_ r: TOMLReader) throws(PixeltableError) -> ServiceConfig.Limits {
        var l = ServiceConfig.Limits()
        func positive(_ key: String) throws(PixeltableError) -> Int? {
            guard let v = try r.int(key) else { return nil }
            guard v > 0 else { throw r.error("\(key) must be a positive number (got \(v))", line: r.table[key]?.line) }
            return v
        }
        l.maxBodyBytes = try positive("max_body_bytes")
        l.maxNestingDepth = try positive("max_nesting_depth")
        l.maxConnections = try positive("max_connections")
        l.headerTimeout = try r.seconds("header_timeout")
        l.bodyTimeout = try r.seconds("body_timeout")
        l.idleTimeout = try r.seconds("idle_timeout")
        return l
    }

    static let commonKeys = ["type", "path", "background"]
    static let keysByType: [String: [String]] = [
        "insert": ["table", "inputs", "uploadfile_inputs", "outputs", "return_fileresponse", "export_sql"],
        "compute": ["table", "inputs", "uploadfile_inputs", "outputs", "return_fileresponse", "export_sql"],
        "update": ["table", "inputs", "outputs", "return_fileresponse", "export_sql"],
        "delete": ["table", "match_columns"],
        "query": ["query", "inputs", "uploadfile_inputs", "one_row", "return_fileresponse", "method"],
    ]

    static func route(_ r: TOMLReader, file: String) throws(PixeltableError) -> RouteConfig {
        let type = try r.string("type", required: true)!
        guard let keys = keysByType[type] else {
            throw r.error("route type '\(type)' in \(r.context) is not one of 'insert', 'update', 'delete', 'query'", line: r.table["type"]?.line)
        }
        try r.checkKeys(commonKeys + keys)
        let path = try r.string("path", required: true)!
        guard path.hasPrefix("/") else { throw r.error("path must start with '/' (got '\(path)')", line: r.table["path"]?.line) }
        var c = RouteConfig(type: type, path: path)
        c.location = FileLocation(file: file, line: r.line, column: 0)
        c.background = try r.bool("background") ?? false
        if type == "query" {
            c.query = try r.string("query", required: true)
            c.oneRow = try r.bool("one_row") ?? false
            if let m = try r.string("method") {
                guard let qm = QueryMethod(rawValue: m) else { throw r.error("method must be \"get\" or \"post\", not \"\(m)\"", line: r.table["method"]?.line) }
                c.method = qm
            }
        } else {
            c.table = try r.string("table", required: true)
        }
        c.inputs = try r.stringList("inputs")
        c.uploadFileInputs = try r.stringList("uploadfile_inputs")
        c.outputs = try r.stringList("outputs")
        c.matchColumns = try r.stringList("match_columns")
        c.returnFileResponse = try r.bool("return_fileresponse") ?? false
        if let e = try r.subtable("export_sql", context: "export_sql of \(r.context)") {
            try e.checkKeys(["db_connect", "table", "db_schema", "method", "delivery"])
            let method = try e.string("method") ?? "insert"
            guard ["insert", "update", "merge"].contains(method) else {
                throw e.error("export_sql method must be 'insert', 'update' or 'merge' [input_value='\(method)']", line: e.table["method"]?.line)
            }
            let deliveryText = try e.string("delivery") ?? "direct"
            guard let delivery = SQLExport.Delivery(rawValue: deliveryText) else {
                throw e.error("export_sql delivery must be 'direct' or 'outbox' [input_value='\(deliveryText)']", line: e.table["delivery"]?.line)
            }
            c.exportSQL = SQLExport(
                dbConnect: try e.string("db_connect", required: true)!, table: try e.string("table", required: true)!, dbSchema: try e.string("db_schema"),
                method: method, delivery: delivery)
        }
        return c
    }
}

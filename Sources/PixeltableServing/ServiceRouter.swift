import Foundation
import Pixeltable
import Synchronization

/// Turns tables and named queries into HTTP endpoints: the Swift counterpart of Pixeltable's
/// `FastAPIRouter`.
///
/// Register routes, then mount the router on a Hummingbird `Router` (next to hand-written
/// routes) with ``mount(on:)``, or serve it with ``ServiceServer``.
///
/// ```swift
/// let router = ServiceRouter(catalog: catalog)
/// try await router.addInsertRoute(films, path: "/films", inputs: ["id", "title"])
/// try await router.addQueryRoute(path: "/lookup", query: lookup, oneRow: true, method: .get)
/// ```
public final class ServiceRouter: Sendable {
    /// Limits of the background-job store.
    public struct Configuration: Sendable {
        /// Finished jobs kept at most (newest first).
        public var maxJobs: Int = 10_000
        /// Finished jobs older than this many seconds are forgotten.
        public var maxJobAge: Double = 7 * 86_400
        /// Background operations running at once.
        public var backgroundConcurrency: Int = 16
        /// The OpenAPI document's title.
        public var title: String = "Pixeltable"
        /// The largest `multipart/form-data` request accepted (uploads); larger ones are
        /// answered 413 with nothing stored.
        public var maxUploadBytes: Int = 100 << 20
        /// Failed deliveries of an outbox entry whose rows the target refuses before it is marked
        /// failed (see `pxt exports`). An unavailable target is waited for without limit.
        public var outboxMaxAttempts: Int = 8
        /// The wait before an entry's first retry; it doubles with each further failure.
        public var outboxRetryDelay: Duration = .seconds(1)
        /// Who may call the routes; `nil` serves them to anyone who can reach the port.
        public var auth: ServiceAuth?
        /// Which other web origins may call the routes from a browser; `nil` allows none.
        public var cors: CORSPolicy?
        /// The largest JSON request body accepted; larger ones are answered 413.
        public var maxBodyBytes: Int = 16 << 20
        /// The deepest nesting of arrays and objects accepted in a JSON request body.
        public var maxNestingDepth: Int = 512
        /// How long a client has to send a request's line and headers, from the moment the
        /// connection is ready for one (opened, or the previous response sent).
        public var headerTimeout: Duration = .seconds(30)
        /// How long a client has to send a request's body once its headers have arrived.
        public var bodyTimeout: Duration = .seconds(300)
        /// A connection on which nothing has been read for this long is closed (keep-alive
        /// connections between requests included).
        public var idleTimeout: Duration = .seconds(60)
        /// Connections served at once; more are closed as soon as they are accepted.
        public var maxConnections: Int = 10_000

        /// The default configuration.
        public init() {}
    }

    /// The catalog routes read and write.
    public let catalog: Catalog
    /// The prefix prepended to every route, built-ins included (`""` or starting with `/`).
    public let prefix: String
    /// The configuration.
    public let configuration: Configuration
    let routes = Mutex<[RouteSpec]>([])
    let jobs: JobRunner
    /// The databases `export_sql` routes write to, one per connection string.
    let exportTargets = ExportTargets()
    /// Delivers the rows of `export_sql` routes with `delivery = "outbox"`.
    let outbox: OutboxDelivery
    /// Checks credentials when ``Configuration/auth`` is set.
    let authenticator: Authenticator?

    /// A router over `catalog`.
    ///
    /// - Parameters:
    ///   - prefix: Prepended to every route (must be empty or start with `/`).
    ///   - service: Names the service's background jobs in the job store.
    ///   - directory: Where a relative JWT `public_key_file` of ``Configuration/auth`` is found.
    /// - Throws: `INVALID_CONFIGURATION` for an auth or CORS policy that cannot work (no
    ///   credential kind, an unreadable key, credentials with any origin).
    public init(
        catalog: Catalog, prefix: String = "", service: String = "pxt-serve", configuration: Configuration = Configuration(), directory: String? = nil
    ) throws(PixeltableError) {
        guard prefix.isEmpty || prefix.hasPrefix("/") else {
            throw PixeltableError(.invalidArgument, "prefix must be empty or start with '/' (got '\(prefix)')")
        }
        self.catalog = catalog
        self.prefix = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        self.configuration = configuration
        try configuration.cors?.validate()
        let normalized = self.prefix
        if let auth = configuration.auth {
            self.authenticator = try Authenticator(auth, prefix: normalized, home: catalog.home, directory: directory)
        } else {
            self.authenticator = nil
        }
        self.jobs = JobRunner(records: JobRecords(catalog: catalog, service: service), configuration: configuration)
        self.outbox = OutboxDelivery(
            records: OutboxRecords(catalog: catalog, service: service), maxAttempts: configuration.outboxMaxAttempts, retryDelay: configuration.outboxRetryDelay)
    }

    /// Stops the router's background work: waits for running background jobs, stops the outbox
    /// worker (undelivered entries stay for the next run) and closes the export targets.
    /// ``ServiceServer`` calls it when it stops; call it when mounting the router yourself.
    public func shutdown() async {
        await jobs.drain()
        await outbox.stop()
        await exportTargets.closeAll()
    }

    /// The registered routes, in order.
    var allRoutes: [RouteSpec] { routes.withLock { $0 } }

    /// The number of routes registered (built-ins not counted).
    public var routeCount: Int { routes.withLock { $0.count } }

    static let builtIns: [(String, String)] = [("GET", "/jobs/{job_id}"), ("GET", "/media/{path:path}"), ("GET", "/openapi.json"), ("GET", "/docs")]

    func add(_ spec: RouteSpec) throws(PixeltableError) {
        var spec = spec
        guard spec.path.hasPrefix("/") else {
            throw PixeltableError(.invalidArgument, "path must start with '/' (got '\(spec.path)')")
        }
        let method = spec.method == .get ? "GET" : "POST"
        let full = prefix + spec.path
        if Self.builtIns.contains(where: { $0.0 == method && prefix + $0.1 == full }) {
            throw PixeltableError(.pathAlreadyExists, "route already registered: \(method) '\(full)'")
        }
        try routes.withLock { (list: inout [RouteSpec]) throws(PixeltableError) in
            if list.contains(where: { ($0.method == .get ? "GET" : "POST") == method && prefix + $0.path == full }) {
                throw PixeltableError(.pathAlreadyExists, "route already registered: \(method) '\(full)'")
            }
            if let exporter = spec.exporter, exporter.delivery == .outbox { spec.outbox = outbox }
            list.append(spec)
        }
        if let exporter = spec.exporter, spec.outbox != nil { outbox.add(route: spec.path, outboxRoute(spec, exporter)) }
    }

    /// What the outbox worker needs to deliver `spec`'s entries: for a closure route, the
    /// handler runs on the row the entry holds (it ran for the response too; a handler that
    /// only maps the row to its response gives the same row both times).
    func outboxRoute(_ spec: RouteSpec, _ exporter: SQLExporter) -> OutboxDelivery.Route {
        guard let transform = spec.transform else { return OutboxDelivery.Route(exporter: exporter) { $0 } }
        let outputs = spec.outputs
        return OutboxDelivery.Route(exporter: exporter) { payload in
            var names: [String] = []
            var values: [Value] = []
            for o in outputs {
                let v = Value(json: payload[o.name] ?? .null)
                // Media reach the handler as URL strings; other types as the row had them.
                let type = o.type.isMedia ? ColumnType(.string, nullable: true) : o.type
                names.append(o.name)
                if case .success(let typed) = type.coerce(v) { values.append(typed) } else { values.append(v) }
            }
            return try await transform(ResultRow(columns: names, values: values))
        }
    }

    // MARK: registration

    /// The user columns of a table, with their metadata.
    func columns(_ t: Table) async throws(PixeltableError) -> [ColumnDescription] { try await t.columns() }

    func requireTable(_ t: Table, _ p: String, verb: String) async throws(PixeltableError) {
        let meta = try await t.metadata()
        if meta["kind"]?.stringValue == "view" {
            throw PixeltableError(.unsupportedOperation, "\(p): cannot \(verb) view '\(t.path)'")
        }
    }

    static func unsupportedOutputs(_ outputs: [ColumnDescription], _ p: String) throws(PixeltableError) {
        for c in outputs where c.type.kind == .array || c.type.kind == .binary {
            throw PixeltableError(.unsupportedOperation, "\(p): output column '\(c.name)' has type \(c.type.baseDescription), which is not supported")
        }
    }

    static func checkMediaOptions(
        _ p: String, uploadFileInputs: [String]?, returnFileResponse: Bool, background: Bool, exportSQL: SQLExport?, outputs: [ColumnDescription], item: String = "column"
    ) throws(PixeltableError) {
        if returnFileResponse && background {
            throw PixeltableError(.invalidArgument, "\(p): return_fileresponse and background are mutually exclusive")
        }
        if returnFileResponse && outputs.filter(\.type.isMedia).count != 1 || returnFileResponse && outputs.count != 1 {
            throw PixeltableError(.invalidArgument, "\(p): return_fileresponse=True requires exactly one media-typed output \(item)")
        }
        if exportSQL != nil && returnFileResponse {
            throw PixeltableError(.invalidArgument, "\(p): export_sql and return_fileresponse are mutually exclusive")
        }
    }

    /// The exporter of a route whose response has the fields `outputs`, checked against its
    /// target; media fields are URL strings in the response, so they are exported as strings.
    func exporter(_ export: SQLExport?, _ p: String, outputs: [(name: String, type: ColumnType, comment: String?)]) async throws(PixeltableError) -> SQLExporter? {
        guard let export else { return nil }
        let source = outputs.map { o in (name: o.name, type: o.type.isMedia ? ColumnType(.string, nullable: o.type.nullable) : o.type) }
        return try await SQLExporter.make(export, p, source: source, targets: exportTargets)
    }

    /// The fields of a closure route's response, with their types, read off its example value.
    static func exportFields<R: RouteResponse>(of type: R.Type, _ p: String) throws(PixeltableError) -> [(name: String, type: ColumnType, comment: String?)] {
        let example: JSONValue
        do { example = try encode(R.example) } catch {
            throw PixeltableError(.invalidType, "\(p): cannot encode \(R.self).example for export_sql: \(error)")
        }
        guard case .object(let fields) = example else {
            throw PixeltableError(.invalidType, "\(p): cannot interpret response type \(R.self) as a row for export_sql: its example is not an object")
        }
        return try fields.map { (name, value) throws(PixeltableError) in
            let t: ColumnType
            switch value {
            case .int: t = ColumnType(.int, nullable: true)
            case .double: t = ColumnType(.float, nullable: true)
            case .bool: t = ColumnType(.bool, nullable: true)
            case .string: t = ColumnType(.string, nullable: true)
            case .array, .object: t = ColumnType(.json, nullable: true)
            case .null:
                throw PixeltableError(
                    .invalidType, "\(p): cannot interpret response field '\(name)' of \(R.self) as a Pixeltable type for export_sql: its example is null")
            }
            return (name: name, type: t, comment: nil)
        }
    }

    static func resolveOutputs(_ names: [String]?, _ all: [ColumnDescription], _ p: String) throws(PixeltableError) -> [ColumnDescription] {
        guard let names else { return all }
        var out: [ColumnDescription] = []
        for n in names {
            guard let c = all.first(where: { $0.name == n }) else { throw PixeltableError(.columnNotFound, "\(p): unknown output column '\(n)'") }
            out.append(c)
        }
        return out
    }

    static func checkUploadInputs(_ uploads: [String]?, inputs: [String], all: [ColumnDescription], _ p: String) throws(PixeltableError) {
        for u in uploads ?? [] {
            guard let c = all.first(where: { $0.name == u }) else { throw PixeltableError(.columnNotFound, "\(p): unknown uploadfile input column '\(u)'") }
            if c.isComputed { throw PixeltableError(.invalidArgument, "\(p): '\(u)' is a computed column and cannot be used as input") }
            if !c.type.isMedia { throw PixeltableError(.unsupportedOperation, "\(p): uploadfile input column '\(u)' is not a media column") }
            if inputs.contains(u) { throw PixeltableError(.invalidArgument, "\(p): '\(u)' appears in both `inputs` and `uploadfile_inputs`") }
        }
    }

    /// Adds `POST path`: inserts one row built from the request fields and answers with the
    /// output columns of the stored row (computed columns included).
    ///
    /// - Parameters:
    ///   - inputs: Columns accepted from the request; default all non-computed columns.
    ///   - uploadFileInputs: Media columns accepted as multipart file uploads.
    ///   - outputs: Columns in the response; default all columns.
    ///   - returnFileResponse: Answer with the single media output as a file.
    ///   - exportSQL: Also write each row to an external database.
    ///   - background: Answer at once with a job handle and insert in the background.
    public func addInsertRoute(
        _ table: Table, path: String, inputs: [String]? = nil, uploadFileInputs: [String]? = nil, outputs: [String]? = nil,
        returnFileResponse: Bool = false, exportSQL: SQLExport? = nil, background: Bool = false
    ) async throws(PixeltableError) {
        let p = "add_insert_route()"
        var spec = try await insertSpec(table, path: path, inputs: inputs, uploadFileInputs: uploadFileInputs, outputs: outputs, p: p, background: background)
        try Self.checkMediaOptions(
            p, uploadFileInputs: uploadFileInputs, returnFileResponse: returnFileResponse, background: background, exportSQL: exportSQL,
            outputs: spec.1)
        try Self.unsupportedOutputs(spec.1, p)
        spec.0.returnFileResponse = returnFileResponse
        spec.0.exporter = try await exporter(exportSQL, p, outputs: spec.0.outputs)
        try add(spec.0)
    }

    func insertSpec(
        _ table: Table, path: String, inputs: [String]?, uploadFileInputs: [String]?, outputs: [String]?, p: String, background: Bool
    ) async throws(PixeltableError) -> (RouteSpec, [ColumnDescription]) {
        try await requireTable(table, p, verb: "insert into")
        let all = try await columns(table)
        let inputNames = inputs ?? all.filter { !$0.isComputed && !(uploadFileInputs ?? []).contains($0.name) }.map(\.name)
        var ins: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)] = []
        for n in inputNames {
            guard let c = all.first(where: { $0.name == n }) else { throw PixeltableError(.columnNotFound, "\(p): unknown input column '\(n)'") }
            if c.isComputed { throw PixeltableError(.invalidArgument, "\(p): '\(n)' is a computed column and cannot be used as input") }
            // A primary key is never null (the table refuses it): the request must carry it.
            ins.append((c.name, c.isPrimaryKey ? c.type.required : c.type, c.comment, nil, !c.type.nullable || c.isPrimaryKey))
        }
        try Self.checkUploadInputs(uploadFileInputs, inputs: inputNames, all: all, p)
        // Upload inputs join the inputs as required file parts (FastAPI's `File(...)`).
        for u in uploadFileInputs ?? [] {
            if let c = all.first(where: { $0.name == u }) { ins.append((c.name, c.type, c.comment, nil, true)) }
        }
        let outs = try Self.resolveOutputs(outputs, all, p)
        var spec = RouteSpec(
            kind: .insert(table), path: path, method: .post, inputs: ins, outputs: outs.map { ($0.name, $0.type, $0.comment) }, oneRow: false,
            returnScalar: false, background: background, schemaVersion: try await table.schemaVersion())
        spec.uploads = uploadFileInputs ?? []
        return (spec, outs)
    }

    /// Adds `POST path`: updates the row whose primary key the request carries and answers with
    /// the output columns of the updated row (dependent computed columns recomputed); 404 when
    /// no row has that key.
    ///
    /// - Parameter inputs: Columns to set; default all non-computed, non-key, non-media columns.
    public func addUpdateRoute(
        _ table: Table, path: String, inputs: [String]? = nil, outputs: [String]? = nil, returnFileResponse: Bool = false, exportSQL: SQLExport? = nil,
        background: Bool = false
    ) async throws(PixeltableError) {
        let p = "add_update_route()"
        var (spec, outs) = try await updateSpec(table, path: path, inputs: inputs, outputs: outputs, p: p, background: background)
        try Self.checkMediaOptions(p, uploadFileInputs: nil, returnFileResponse: returnFileResponse, background: background, exportSQL: exportSQL, outputs: outs)
        try Self.unsupportedOutputs(outs, p)
        spec.returnFileResponse = returnFileResponse
        spec.exporter = try await exporter(exportSQL, p, outputs: spec.outputs)
        try add(spec)
    }

    func updateSpec(_ table: Table, path: String, inputs: [String]?, outputs: [String]?, p: String, background: Bool) async throws(PixeltableError) -> (RouteSpec, [ColumnDescription]) {
        try await requireTable(table, p, verb: "update")
        let all = try await columns(table)
        let pk = all.filter(\.isPrimaryKey)
        if pk.isEmpty { throw PixeltableError(.unsupportedOperation, "\(p): table has no primary key") }
        let inputNames = inputs ?? all.filter { !$0.isComputed && !$0.isPrimaryKey && !$0.type.isMedia }.map(\.name)
        var ins: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)] = pk.map { ($0.name, $0.type, $0.comment, nil, true) }
        for n in inputNames {
            guard let c = all.first(where: { $0.name == n }) else { throw PixeltableError(.columnNotFound, "\(p): unknown input column '\(n)'") }
            if c.isComputed { throw PixeltableError(.invalidArgument, "\(p): '\(n)' is a computed column and cannot be used as input") }
            if c.isPrimaryKey { throw PixeltableError(.invalidArgument, "\(p): '\(n)' is a primary key column and cannot be used as input") }
            if c.type.isMedia { throw PixeltableError(.unsupportedOperation, "\(p): '\(n)' is a media column and cannot be updated") }
            ins.append((c.name, c.type, c.comment, nil, !c.type.nullable))
        }
        let outs = try Self.resolveOutputs(outputs, all, p)
        let spec = RouteSpec(
            kind: .update(table), path: path, method: .post, inputs: ins, outputs: outs.map { ($0.name, $0.type, $0.comment) }, oneRow: false,
            returnScalar: false, background: background, schemaVersion: try await table.schemaVersion())
        return (spec, outs)
    }

    /// Adds `POST path`: deletes the rows whose `matchColumns` equal the request's values and
    /// answers `{"num_rows": N}`.
    ///
    /// - Parameter matchColumns: Columns to match (AND-ed equality); default the primary key.
    public func addDeleteRoute(_ table: Table, path: String, matchColumns: [String]? = nil, background: Bool = false) async throws(PixeltableError) {
        let p = "add_delete_route()"
        try await requireTable(table, p, verb: "delete from")
        let all = try await columns(table)
        let names: [String]
        if let matchColumns {
            if matchColumns.isEmpty { throw PixeltableError(.missingRequired, "\(p): `match_columns` must be non-empty") }
            names = matchColumns
        } else {
            names = all.filter(\.isPrimaryKey).map(\.name)
            if names.isEmpty { throw PixeltableError(.unsupportedOperation, "\(p): table has no primary key; specify `match_columns` explicitly") }
        }
        var ins: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)] = []
        for n in names {
            guard let c = all.first(where: { $0.name == n }) else { throw PixeltableError(.columnNotFound, "\(p): unknown column '\(n)'") }
            ins.append((c.name, c.type, c.comment, nil, !c.type.nullable))
        }
        try add(
            RouteSpec(
                kind: .delete(table), path: path, method: .post, inputs: ins, outputs: [("num_rows", ColumnType(.int, nullable: false), nil)], oneRow: false,
                returnScalar: false, background: background, schemaVersion: try await table.schemaVersion()))
    }

    /// Adds a route running a named query: `{"rows": [...]}`, a bare object with `oneRow`
    /// (404 on no row, 409 on several), or bare values for `return_scalar` queries.
    ///
    /// - Parameters:
    ///   - inputs: Parameters accepted from the request; default all. Others take their defaults.
    ///   - method: `.post` (JSON body, the default) or `.get` (query string).
    public func addQueryRoute(
        path: String, query: CompiledQuery, inputs: [String]? = nil, uploadFileInputs: [String]? = nil, oneRow: Bool = false,
        returnFileResponse: Bool = false, background: Bool = false, method: QueryMethod = .post
    ) async throws(PixeltableError) {
        let p = "add_query_route()"
        let params = query.parameters
        let names = inputs ?? params.map(\.name).filter { !(uploadFileInputs ?? []).contains($0) }
        var ins: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)] = []
        for n in names {
            guard let prm = params.first(where: { $0.name == n }) else { throw PixeltableError(.columnNotFound, "\(p): unknown input parameter '\(n)'") }
            // As a Python query's `k: int = 5`: null is refused unless null is the default.
            let type = prm.defaultValue?.isNull == true ? prm.type : prm.type.required
            ins.append((prm.name, type, nil, prm.defaultValue, prm.defaultValue == nil))
        }
        for prm in params where !names.contains(prm.name) && !(uploadFileInputs ?? []).contains(prm.name) && prm.defaultValue == nil {
            throw PixeltableError(.invalidArgument, "\(p): parameter '\(prm.name)' has no default, so it must be one of the inputs")
        }
        if method == .get, let u = uploadFileInputs, !u.isEmpty {
            throw PixeltableError(.invalidArgument, "\(p): GET endpoints cannot have uploadfile_inputs (got [\(u.map { "'\($0)'" }.joined(separator: ", "))])")
        }
        for u in uploadFileInputs ?? [] where !params.contains(where: { $0.name == u }) {
            throw PixeltableError(.columnNotFound, "\(p): unknown uploadfile input parameter '\(u)'")
        }
        let outs = zip(query.columns, query.types).map { (name: $0, type: $1, comment: String?.none) }
        if returnFileResponse && background { throw PixeltableError(.invalidArgument, "\(p): return_fileresponse and background are mutually exclusive") }
        if returnFileResponse && (outs.count != 1 || !outs[0].type.isMedia) {
            throw PixeltableError(.invalidArgument, "\(p): return_fileresponse=True requires exactly one media-typed output parameter")
        }
        for u in uploadFileInputs ?? [] {
            guard let prm = params.first(where: { $0.name == u }) else { continue }
            if names.contains(u) { throw PixeltableError(.invalidArgument, "\(p): '\(u)' appears in both `inputs` and `uploadfile_inputs`") }
            guard prm.type.isMedia else { throw PixeltableError(.unsupportedOperation, "\(p): uploadfile input parameter '\(u)' is not a media parameter") }
            ins.append((prm.name, prm.type, nil, nil, true))
        }
        var spec = RouteSpec(
            kind: .query(query), path: path, method: method, inputs: ins, outputs: outs, oneRow: oneRow, returnScalar: query.definition.returnScalar,
            background: background, schemaVersion: nil)
        spec.uploads = uploadFileInputs ?? []
        spec.returnFileResponse = returnFileResponse
        try add(spec)
    }

    /// Adds `POST path` that inserts a row, then answers with what `handler` makes of the output
    /// row (the counterpart of the `@router.insert_route` decorator).
    ///
    /// The handler's result type provides an example value, from which the response schema in
    /// the OpenAPI document is made.
    ///
    /// With `exportSQL`, what the handler returns is the exported row: the fields of
    /// `Response.example` are checked against the target table.
    public func insertRoute<Response: RouteResponse>(
        _ table: Table, path: String, inputs: [String]? = nil, outputs: [String]? = nil, exportSQL: SQLExport? = nil, background: Bool = false,
        _ handler: @escaping @Sendable (ResultRow) async throws -> Response
    ) async throws(PixeltableError) {
        let p = "insert_route()"
        var (spec, _) = try await insertSpec(table, path: path, inputs: inputs, uploadFileInputs: nil, outputs: outputs, p: p, background: background)
        spec.transform = { row in try Self.encode(try await handler(row)) }
        spec.transformSchema = try Self.schema(of: Response.self)
        if exportSQL != nil { spec.exporter = try await exporter(exportSQL, p, outputs: try Self.exportFields(of: Response.self, p)) }
        try add(spec)
    }

    /// Adds `POST path` that updates a row by primary key, then answers with what `handler`
    /// makes of the output row (the counterpart of `@router.update_route`); 404 without calling
    /// it when no row has the key.
    ///
    /// With `exportSQL`, what the handler returns is the exported row (see ``insertRoute(_:path:inputs:outputs:exportSQL:background:_:)``).
    public func updateRoute<Response: RouteResponse>(
        _ table: Table, path: String, inputs: [String]? = nil, outputs: [String]? = nil, exportSQL: SQLExport? = nil, background: Bool = false,
        _ handler: @escaping @Sendable (ResultRow) async throws -> Response
    ) async throws(PixeltableError) {
        let p = "update_route()"
        var (spec, _) = try await updateSpec(table, path: path, inputs: inputs, outputs: outputs, p: p, background: background)
        spec.transform = { row in try Self.encode(try await handler(row)) }
        spec.transformSchema = try Self.schema(of: Response.self)
        if exportSQL != nil { spec.exporter = try await exporter(exportSQL, p, outputs: try Self.exportFields(of: Response.self, p)) }
        try add(spec)
    }

    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let data = try JSONEncoder().encode(value)
        return try JSONParser.parse(bytes: [UInt8](data))
    }

    static func schema<R: RouteResponse>(of type: R.Type) throws(PixeltableError) -> JSONValue {
        do {
            return OpenAPIBuilder.inferSchema(try encode(R.example), title: String(describing: R.self))
        } catch {
            throw PixeltableError(.invalidArgument, "cannot encode \(R.self).example: \(error)")
        }
    }
}

/// What a closure route returns: an `Encodable` value with an example, from which the OpenAPI
/// document shows its schema.
public protocol RouteResponse: Encodable, Sendable {
    /// A representative value.
    static var example: Self { get }
}

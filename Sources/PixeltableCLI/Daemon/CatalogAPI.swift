import Foundation
import Pixeltable
import Synchronization

/// The answer to a daemon request.
enum APIResult: Sendable {
    /// A JSON body with a status.
    case json(Int, JSONValue)
    /// Raw bytes with a content type.
    case bytes(Int, String, [UInt8])
    /// Newline-delimited JSON events, written as they come (progress of long operations).
    case stream(AsyncStream<JSONValue>)
}

/// The catalog operations the daemon serves, one method per route of Pixeltable's daemon
/// (reference §3.2), independent of the HTTP server.
final class CatalogAPI: Sendable {
    let catalog: Catalog
    let info: DaemonInfo
    private let sessions = Mutex<[String: String]>([:])
    /// The settings this daemon serves with, compared with each caller's.
    let agreement: EnvironmentAgreement

    init(catalog: Catalog, info: DaemonInfo, environment: [String: String] = FastIO.environment) {
        self.catalog = catalog
        self.info = info
        agreement = EnvironmentAgreement(configFile: ConfigFile.path(home: catalog.home, environment: environment), environment: environment)
    }

    /// Routes a request; errors become `{"detail", "error_code"}` with their status.
    func handle(_ req: APIRequest) async -> APIResult {
        do {
            try agreement.check(path: req.path, callerHeader: req.environment)
            return try await route(req)
        } catch let e as APIError {
            return .json(e.status, e.json)
        } catch let e as PixeltableError {
            return .json(e.httpStatus, APIError(e).json)
        } catch {
            return .json(500, ["detail": .string("\(type(of: error)): \(error)")])
        }
    }

    private func route(_ req: APIRequest) async throws -> APIResult {
        switch (req.method, req.path) {
        case ("GET", "/api/health"): return .json(200, info.health)
        case ("GET", "/api/status"): return .json(200, try await status(req))
        case ("GET", "/api/config"):
            return .json(200, try ConfigSettings.report(home: catalog.home, fingerprint: agreement.fingerprint))
        case ("GET", "/api/dirs"): return .json(200, try await dirs(req))
        case ("GET", "/api/cwd"): return .json(200, ["uri": cwd(req).map { .string($0) } ?? .null])
        case ("POST", "/api/cwd"): return .json(200, try await setCwd(req))
        case ("GET", "/api/tables/rows"): return .json(200, try await rows(req))
        case ("GET", "/api/tables/row"): return .json(200, try await row(req))
        case ("GET", "/api/tables/count"): return .json(200, try await count(req))
        case ("GET", "/api/tables/errors"): return .json(200, try await errors(req))
        case ("GET", "/api/tables/history"): return .json(200, try await history(req))
        case ("GET", "/api/tables/describe"): return .json(200, try await describe(req))
        case ("GET", "/api/columns"): return .json(200, try await columns(req))
        case ("GET", "/api/indexes"): return .json(200, try await indexes(req))
        case ("POST", "/api/tables/drop"): return .json(200, try await dropTable(req))
        case ("POST", "/api/dirs/drop"): return .json(200, try await dropDir(req))
        case ("POST", "/api/move"): return .json(200, try await move(req))
        case ("POST", "/api/tables/revert"): return .json(200, try await revert(req))
        case ("POST", "/api/schema/diff"): return .json(200, try await schema(req, apply: false))
        case ("POST", "/api/schema/update"):
            if req.param("stream") == "1" { return try schemaUpdateStream(req) }
            return .json(200, try await schema(req, apply: true))
        case ("POST", "/api/query"): return .json(200, try await query(req))
        case ("POST", "/api/insert"): return try await insert(req)
        case ("GET", "/api/exports"): return .json(200, try await exports(req))
        case ("POST", "/api/exports/retry"): return .json(200, try await retryExports(req))
        case ("GET", "/api/dashboard/tree"): return .json(200, try await dashboardTree())
        case ("GET", "/api/dashboard/data"): return .json(200, try await dashboardData(req))
        case ("GET", "/"), ("GET", "/index.html"): return .bytes(200, "text/html; charset=utf-8", Array(Dashboard.html.utf8))
        default:
            if req.method != "GET" && req.method != "POST" { return .json(405, ["detail": "method not allowed"]) }
            return .json(404, ["detail": "not found"])
        }
    }

    // MARK: paths

    func cwd(_ req: APIRequest) -> String? {
        guard let s = req.session else { return nil }
        return sessions.withLock { $0[s] }
    }

    /// Resolves a path parameter against the session's working directory.
    func resolve(_ raw: String?, _ req: APIRequest, required: Bool = true) throws -> String {
        guard let raw else {
            if required { throw APIError(422, "missing 'path' parameter", code: "MISSING_REQUIRED") }
            return cwd(req) ?? ""
        }
        if let problem = PathShape.problem(raw) { throw APIError(422, problem, code: "INVALID_PATH") }
        return PathShape.resolve(raw, cwd: cwd(req))
    }

    func pathParam(_ req: APIRequest) throws -> String {
        guard let p = req.param("path") else { throw APIError(422, "missing 'path' parameter", code: "MISSING_REQUIRED") }
        if p.isEmpty { throw APIError(422, "'path' must not be empty", code: "INVALID_PATH") }
        return try resolve(p, req)
    }

    func setCwd(_ req: APIRequest) async throws -> JSONValue {
        guard let session = req.session else { throw APIError(422, "no session; cannot set a working directory") }
        let body = try req.jsonBody()
        let raw = body["uri"]?.stringValue ?? "/"
        let p = try resolve(raw, req)
        if p.isEmpty {
            sessions.withLock { $0[session] = nil }
            return ["uri": .null]
        }
        guard try await catalog.kind(of: p) == .directory else {
            if try await catalog.kind(of: p) == nil { throw APIError(404, "Path '\(p)' does not exist.", code: "PATH_NOT_FOUND") }
            throw APIError(422, "'\(p)' is not a directory", code: "INVALID_PATH")
        }
        sessions.withLock { $0[session] = p }
        return ["uri": .string(p)]
    }

    // MARK: inspection

    func entryJSON(_ e: CatalogEntry, details: Bool, count: Int?) -> JSONValue {
        var o = JSONObject()
        o["path"] = .string(e.path.description)
        o["kind"] = .string(e.kind.rawValue)
        o["num_rows"] = count.map { .int(Int64($0)) } ?? .null
        o["num_cols"] = details ? (e.columnCount.map { .int(Int64($0)) } ?? .null) : .null
        o["last_version"] = e.version.map { .int(Int64($0)) } ?? .null
        var flags = ""
        if details {
            if e.hasComputedColumn { flags += "c" }
            if e.hasIndex { flags += "i" }
        }
        o["flags"] = .string(flags)
        return .object(o)
    }

    func dirs(_ req: APIRequest) async throws -> JSONValue {
        let p = try resolve(req.param("path"), req, required: false)
        let details = try req.bool("details")
        let counts = try req.bool("counts")
        if try req.bool("tree") {
            let all = try await catalog.list(p, recursive: true)
            func node(_ dir: CatalogPath) -> [JSONValue] {
                all.filter { $0.path.parent == dir }.map { e in
                    if e.kind == .directory {
                        return ["name": .string(e.path.name), "path": .string(e.path.description), "kind": "directory", "entries": .array(node(e.path))]
                    }
                    return [
                        "name": .string(e.path.name), "path": .string(e.path.description), "kind": .string(e.kind.rawValue),
                        "version": e.version.map { .int(Int64($0)) } ?? .null, "error_count": .int(Int64(e.errorCount)),
                        "base": e.base.map { .string($0.description) } ?? .null,
                    ]
                }
            }
            let root = try CatalogPath(p)
            return ["entries": .array([]), "tree": ["path": .string(p), "entries": .array(node(root))]]
        }
        let entries = try await catalog.list(p)
        var out: [JSONValue] = []
        for e in entries {
            var n: Int? = nil
            if counts && e.kind != .directory {
                n = try? await catalog.table(e.path.description).count()
            }
            out.append(entryJSON(e, details: details, count: n))
        }
        return ["entries": .array(out), "tree": .null]
    }

    func status(_ req: APIRequest) async throws -> JSONValue {
        let sizes = try req.bool("sizes")
        let all = try await catalog.list("", recursive: true)
        let tables = all.filter { $0.kind != .directory }
        let home = catalog.home
        var o = JSONObject()
        o["pxt_version"] = .string(PxtVersion.current)
        o["pid"] = .int(Int64(info.pid))
        o["started_at"] = .string(info.startedAt.pythonISOFormat)
        o["home"] = .string(home.path)
        o["db_url"] = .string("sqlite:///" + home.databasePath)
        o["media_dir"] = .string(home.mediaDirectory)
        o["file_cache_dir"] = .string(home.fileCacheDirectory)
        o["media_size_bytes"] = sizes ? .int(Int64(Self.directorySize(home.mediaDirectory))) : .null
        o["file_cache_size_bytes"] = sizes ? .int(Int64(Self.directorySize(home.fileCacheDirectory))) : .null
        if sizes {
            o["media_files"] = .int(Int64(Self.fileCount(home.mediaDirectory)))
            o["file_cache_files"] = .int(Int64(Self.fileCount(home.fileCacheDirectory)))
        }
        o["total_tables"] = .int(Int64(tables.count))
        o["total_errors"] = .int(Int64(tables.filter { $0.kind == .table }.reduce(0) { $0 + $1.errorCount }))
        return .object(o)
    }

    /// The regular files below `path`.
    static func fileCount(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var n = 0
        while let f = e.nextObject() as? String {
            if (try? FileManager.default.attributesOfItem(atPath: path + "/" + f)[.type] as? FileAttributeType) == .typeRegular, !f.hasPrefix(".") { n += 1 }
        }
        return n
    }

    static func directorySize(_ path: String) -> Int {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total = 0
        while let f = e.nextObject() as? String {
            if let attrs = try? FileManager.default.attributesOfItem(atPath: path + "/" + f), (attrs[.type] as? FileAttributeType) == .typeRegular {
                total += (attrs[.size] as? Int) ?? 0
            }
        }
        return total
    }

    /// A cell as the daemon returns it: JSON values as they are; timestamps, dates and UUIDs as
    /// Python's `str()`, as Pixeltable's daemon does (`json.dumps(default=str)`).
    static func cell(_ v: Value) -> JSONValue {
        switch v {
        case .timestamp, .date, .uuid, .binary: return .string(v.displayString)
        default: return v.json
        }
    }

    func parseCols(_ req: APIRequest) throws -> [String]? {
        guard let raw = req.param("cols") else { return nil }
        let parts = raw.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmedASCII }
        if parts.contains(where: \.isEmpty) { throw APIError(422, "comma-separated value contains an empty token: '\(raw)'") }
        if parts.count > 1000 { throw APIError(422, "'cols' must name at most 1000 columns") }
        return parts
    }

    func rows(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let n = try req.int("n", default: 10, min: 1, max: 1000)!
        let cols = try parseCols(req)
        let t = try await catalog.table(p)
        let columns = try await t.columns()
        let names = cols ?? columns.filter(\.isStored).map(\.name)
        if let cols {
            let unknown = cols.filter { c in !columns.contains { $0.name == c } }
            if !unknown.isEmpty { throw APIError(422, "unknown columns: \(unknown.joined(separator: ","))") }
        }
        let result = try await t.select(names, limit: n)
        let images = Set(columns.filter { $0.type.kind == .image }.map(\.name))
        var display: [JSONValue] = []
        for r in result.rows { display.append(await imageDisplay(r, images)) }
        return ["columns": .array(names.map { .string($0) }), "rows": .array(result.rows.map(rowJSON)), "display": .array(display)]
    }

    /// Pixeltable's text form of a row's image cells, `<Image 200x100 RGB>`, by column (the
    /// JSON form keeps the URL). A file that cannot be read shows as its URL.
    func imageDisplay(_ r: ResultRow, _ images: Set<String>) async -> JSONValue {
        var o = JSONObject()
        for (k, v) in zip(r.columns, r.values) where images.contains(k) {
            guard case .media(let s) = v, let ref = try? MediaReference(parsing: s), let path = try? await catalog.media.localFile(ref),
                let h = try? ImageCodec.probe(file: path)
            else { continue }
            o[k] = .string("<Image \(h.width)x\(h.height) \(h.mode.rawValue)>")
        }
        return .object(o)
    }

    func rowJSON(_ r: ResultRow) -> JSONValue {
        var o = JSONObject()
        for (k, v) in zip(r.columns, r.values) { o[k] = Self.cell(v) }
        return .object(o)
    }

    /// A primary-key token from the command line: int, else float, else the string.
    static func coercePK(_ s: String) -> Value {
        let t = s.trimmedASCII
        if let i = Int64(t) { return .int(i) }
        if let d = Double(t), t.lowercased() != "nan", t.lowercased() != "inf", t.lowercased() != "infinity" { return .float(d) }
        return .string(s)
    }

    func row(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        guard let pks = req.query["pk"], !pks.isEmpty else { throw APIError(422, "missing or empty 'pk' query parameter") }
        if pks.contains(where: { $0.trimmedASCII.isEmpty }) {
            throw APIError(422, "PK values must not be empty or whitespace-only")
        }
        let cols = try parseCols(req)
        let t = try await catalog.table(p)
        let meta = try await t.metadata()
        guard case .array(let pkCols) = meta["primary_key"] ?? .null else {
            throw APIError(422, "\(p): no primary key declared; row lookup requires one", code: "UNSUPPORTED_OPERATION")
        }
        if let cols {
            let columns = try await t.columns()
            let unknown = cols.filter { c in !columns.contains { $0.name == c } }
            if !unknown.isEmpty { throw APIError(422, "unknown columns: \(unknown.joined(separator: ","))") }
        }
        let found = try await t.get(pks.map(Self.coercePK), columns: cols)
        let images = Set(try await t.columns().filter { $0.type.kind == .image }.map(\.name))
        var display: JSONValue = [:]
        if let found { display = await imageDisplay(found, images) }
        return ["pk_columns": .array(pkCols), "row": found.map(rowJSON) ?? .null, "display": display]
    }

    func count(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let t = try await catalog.table(p)
        return ["path": .string(p), "count": .int(Int64(try await t.count()))]
    }

    func errors(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let t = try await catalog.table(p)
        let list = try await t.errors(column: req.param("col"))
        return [
            "entries": .array(
                list.map { e in
                    [
                        "pk": .object(JSONObject(e.primaryKey.map { ($0.0, Self.cell($0.1)) })), "column": .string(e.column),
                        "errortype": .string(e.errorType), "errormsg": e.errorMessage.map { .string($0) } ?? .null,
                    ]
                })
        ]
    }

    func history(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let n = try req.int("n", min: 1)
        let t = try await catalog.table(p)
        return ["versions": .array(try await t.history(limit: n).map(\.json))]
    }

    func describe(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let t = try await catalog.table(p)
        let meta = try await t.metadata()
        let cols = try await t.columns()
        let idxs = try await t.indexes()
        // A view stores no columns of its own: every column comes from the table at the root
        // of its bases, which the text names as the column's source.
        var root = meta
        while root["kind"]?.stringValue == "view", let base = root["base"]?.stringValue {
            root = try await catalog.table(base).metadata()
        }
        let source = root["name"]?.stringValue ?? ""
        return ["text": .string(DescribeText.render(meta, columns: cols, indexes: idxs, source: source)), "metadata": meta]
    }

    /// The tables under `path` (a table, or a directory walked recursively; all when absent).
    func tables(under raw: String?, _ req: APIRequest) async throws -> [Table] {
        if let raw, raw.isEmpty { throw APIError(422, "'path' must not be empty") }
        let p = try resolve(raw, req, required: false)
        switch try await catalog.kind(of: p) {
        case .table, .view: return [try await catalog.table(p)]
        case .directory:
            var out: [Table] = []
            for e in try await catalog.list(p, recursive: true) where e.kind != .directory {
                out.append(try await catalog.table(e.path.description))
            }
            return out
        case nil: throw APIError(404, "Path '\(p)' does not exist.", code: "PATH_NOT_FOUND")
        }
    }

    func columns(_ req: APIRequest) async throws -> JSONValue {
        let computedOnly = try req.bool("computed")
        var out: [JSONValue] = []
        for t in try await tables(under: req.param("path"), req) {
            for c in try await t.columns() where !computedOnly || c.isComputed {
                out.append([
                    "table": .string(c.table.description), "column": .string(c.name), "is_computed": .bool(c.isComputed),
                    "type_": .string(c.type.description), "computed_with": c.computedWith.map { .string($0) } ?? .null,
                    "depends_on": .array(c.dependsOn.map { .string($0) }), "is_stored": .bool(c.isStored),
                ])
            }
        }
        return ["entries": .array(out)]
    }

    func indexes(_ req: APIRequest) async throws -> JSONValue {
        let embeddingOnly = try req.bool("embedding")
        var out: [JSONValue] = []
        for t in try await tables(under: req.param("path"), req) {
            // With --embedding, what each index holds too: its model, vector length, rows and graph.
            let status = embeddingOnly ? try await t.embeddingIndexStatus() : []
            for i in try await t.indexes() where !embeddingOnly || i.kind == "embedding" {
                var e: JSONObject = [
                    "table": .string(i.table.description), "name": .string(i.name), "columns": .array(i.columns.map { .string($0) }),
                    "index_type": .string(i.kind), "metric": i.metric.map { .string($0) } ?? .null,
                    "embedding": i.embedding.map { .string($0) } ?? .null,
                ]
                if let s = status.first(where: { $0.name == i.name }) {
                    e["model"] = s.model.map { .string($0) } ?? .null
                    e["dimensions"] = s.dimensions.map { .int(Int64($0)) } ?? .null
                    e["rows"] = .int(Int64(s.rows))
                    e["ann"] = .string(s.graph)
                }
                out.append(.object(e))
            }
        }
        return ["entries": .array(out)]
    }

    // MARK: mutations

    func bodyPath(_ body: JSONObject, _ key: String, _ req: APIRequest) throws -> String {
        guard let raw = body[key]?.stringValue else { throw APIError(422, "missing '\(key)'", code: "MISSING_REQUIRED") }
        if raw.isEmpty && key == "path" { throw APIError(422, "'path' must not be empty") }
        return try resolve(raw, req)
    }

    func dropTable(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        let p = try bodyPath(body, "path", req)
        if try await catalog.kind(of: p) == .directory {
            throw APIError(422, "'\(p)' is a directory, not a table or view; use `pxt rm` for directories", code: "INVALID_PATH")
        }
        try await catalog.drop(p, cascade: body["cascade"]?.boolValue ?? false)
        return ["path": .string(p), "dropped": true]
    }

    func dropDir(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        let p = try bodyPath(body, "path", req)
        switch try await catalog.kind(of: p) {
        case .table, .view: throw APIError(422, "'\(p)' is a table or view, not a directory; use `pxt drop` for tables", code: "INVALID_PATH")
        case nil: throw APIError(404, "Path '\(p)' does not exist.", code: "PATH_NOT_FOUND")
        case .directory: break
        }
        try await catalog.removeDirectory(p, recursive: body["cascade"]?.boolValue ?? false)
        return ["path": .string(p), "dropped": true]
    }

    func move(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        let from = try bodyPath(body, "path", req)
        let to = try bodyPath(body, "new_path", req)
        // A dry run makes every check of the real one (names, parents, collisions), in its
        // transaction, and writes nothing.
        let moved = try await catalog.move(from, to: to, dryRun: body["dry_run"]?.boolValue ?? false)
        return ["path": .string(from), "new_path": .string(moved.description)]
    }

    func revert(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        let p = try bodyPath(body, "path", req)
        let steps = body["steps"]?.intValue ?? 1
        guard steps >= 1 else { throw APIError(422, "steps must be >= 1", code: "INVALID_ARGUMENT") }
        let t = try await catalog.table(p)
        let version = try await t.version()
        guard steps <= version else {
            throw APIError(422, "cannot revert \(steps) step(s): \(p) is at version \(version)", code: "INVALID_ARGUMENT")
        }
        // The versions come from the reverts' own transactions: a write landing between the
        // check above and the first revert must not be reported as a version it did not undo.
        var from: Int? = nil
        var to = version
        for _ in 0..<steps {
            let r = try await t.revert()
            if from == nil { from = r.from }
            to = r.to
        }
        return ["path": .string(p), "from_version": .int(Int64(from ?? version)), "to_version": .int(Int64(to))]
    }

    // MARK: modules

    func schema(_ req: APIRequest, apply: Bool) async throws -> JSONValue {
        let body = try req.jsonBody()
        guard let file = body["schema_file"]?.stringValue else { throw APIError(422, "missing 'schema_file'", code: "MISSING_REQUIRED") }
        let module = try ModuleFile.load(file)
        let plan = apply ? try await module.apply(catalog, allowDestructive: body["allow_destructive"]?.boolValue ?? false) : try await module.plan(catalog)
        var j = plan.json
        if case .object(var o) = j {
            o["text"] = .string(plan.text)
            o["destructive"] = .bool(plan.isDestructive)
            j = .object(o)
        }
        return j
    }

    /// `schema update` as a stream: progress events while embedding indexes embed the rows
    /// there are, then `{"result": plan}` or `{"error": …}`.
    func schemaUpdateStream(_ req: APIRequest) throws -> APIResult {
        let body = try req.jsonBody()
        guard let file = body["schema_file"]?.stringValue else { throw APIError(422, "missing 'schema_file'", code: "MISSING_REQUIRED") }
        let allow = body["allow_destructive"]?.boolValue ?? false
        let catalog = self.catalog
        let stream = AsyncStream<JSONValue> { continuation in
            let task = Task {
                do {
                    let module = try ModuleFile.load(file)
                    let plan = try await module.apply(catalog, allowDestructive: allow) { what, done, total in
                        continuation.yield(["progress": .int(Int64(done)), "total": .int(Int64(total)), "what": .string(what)])
                    }
                    var j = plan.json
                    if case .object(var o) = j {
                        o["text"] = .string(plan.text)
                        o["destructive"] = .bool(plan.isDestructive)
                        j = .object(o)
                    }
                    continuation.yield(["result": j])
                } catch let e as PixeltableError {
                    // With its status, so that the client reports it as it reports any failed call.
                    let a = APIError(e)
                    var o = a.json.objectValue ?? JSONObject()
                    o["status"] = .int(Int64(a.status))
                    continuation.yield(["error": .object(o)])
                } catch {
                    continuation.yield(["error": ["detail": .string("\(error)")]])
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in _ = task }
        }
        return .stream(stream)
    }

    func query(_ req: APIRequest) async throws -> JSONValue {
        let body = try req.jsonBody()
        guard let ref = body["reference"]?.stringValue else { throw APIError(422, "missing 'reference'", code: "MISSING_REQUIRED") }
        let dirs = body["search_dirs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let resolver = ModuleResolver(searchDirectories: dirs)
        let (_, def) = try resolver.query(ref)
        let compiled = try await def.compile(catalog)
        var args: [String: Value] = [:]
        for (k, v) in body["args"]?.objectValue ?? JSONObject() { args[k] = Value(json: v) }
        let result = try await compiled.run(args, lax: true)
        return [
            "columns": .array(result.columns.map { .string($0) }), "types": .array(result.types.map { .string($0.description) }),
            "rows": .array(result.rows.map(rowJSON)), "wire_rows": .array(result.rows.map(\.json)),
            "return_scalar": .bool(def.returnScalar),
        ]
    }

    func insert(_ req: APIRequest) async throws -> APIResult {
        let p = try pathParam(req)
        let format = try InputFormat.detect(req.param("format"), fileName: req.param("file"), body: req.body)
        let table = try await catalog.table(p)
        let body = req.body
        let stream = AsyncStream<JSONValue> { continuation in
            let task = Task {
                do {
                    let result = try await BulkInsert.run(table: table, body: body, format: format, baseDirectory: req.param("cwd")) { done, total in
                        continuation.yield(["progress": .int(Int64(done)), "total": .int(Int64(total))])
                    }
                    continuation.yield(["result": ["path": .string(p), "rows": .int(Int64(result.rowCount)), "errors": .int(Int64(result.errorCount)), "version": result.version.map { .int(Int64($0)) } ?? .null]])
                } catch let e as PixeltableError {
                    continuation.yield(["error": APIError(e).json])
                } catch {
                    continuation.yield(["error": ["detail": .string("\(error)")]])
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in _ = task }
        }
        return .stream(stream)
    }

    // MARK: dashboard

    func dashboardTree() async throws -> JSONValue {
        let all = try await catalog.list("", recursive: true)
        return ["entries": .array(all.map { entryJSON($0, details: true, count: nil) })]
    }

    func dashboardData(_ req: APIRequest) async throws -> JSONValue {
        let p = try pathParam(req)
        let n = try req.int("n", default: 50, min: 1, max: 1000)!
        let t = try await catalog.table(p)
        let r = try await t.select(limit: n)
        return ["columns": .array(r.columns.map { .string($0) }), "rows": .array(r.rows.map(rowJSON)), "total_count": .int(Int64(try await t.count()))]
    }
}

import GRDB

/// Everything the catalog knows about its directories and tables at one catalog generation.
///
/// The generation counter in `pxt_meta` changes with every catalog or schema change, from this
/// process or another; a state is reused while the generation is unchanged, so resolving a
/// path costs one indexed read.
final class CatalogState: Sendable {
    let generation: Int64
    /// Directory paths (slash form), the root (`""`) included.
    let directories: Set<String>
    /// Tables and views by id.
    let tables: [String: TableSnapshot]
    /// Table and view ids by path (slash form).
    let tablesByPath: [String: String]

    init(generation: Int64, directories: Set<String>, tables: [String: TableSnapshot]) {
        self.generation = generation
        self.directories = directories
        self.tables = tables
        var byPath: [String: String] = [:]
        for t in tables.values { byPath[t.path.description] = t.id }
        tablesByPath = byPath
    }

    static func generation(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT CAST(value AS INTEGER) FROM pxt_meta WHERE key = 'generation'")) ?? 0
    }

    static func bumpGeneration(_ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE pxt_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'").execute()
    }

    /// Reads the whole catalog and compiles every table's expressions.
    static func load(_ db: Database, functions: FunctionRegistry, media: MediaStore? = nil) throws -> CatalogState {
        let generation = try generation(db)
        var dirs: Set<String> = [""]
        for p in try String.fetchAll(db, sql: "SELECT path FROM pxt_dirs") { dirs.insert(p) }
        struct RawTable {
            let id: String, path: String, kind: TableKind, baseID: String?, schema: TableSchema, schemaVersion: Int, createdAt: Int64
            let viewGeneration: Int
        }
        var raw: [String: RawTable] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, path, kind, base_id, schema, schema_version, created_at, view_generation FROM pxt_tables") {
            let id: String = row["id"]
            let schemaText: String = row["schema"]
            let schema: TableSchema
            do {
                schema = try TableSchema.decode(schemaText)
            } catch {
                throw PixeltableError(.internalError, "catalog entry '\(row["path"] as String)' has an unreadable schema: \(error)")
            }
            raw[id] = RawTable(
                id: id, path: row["path"], kind: TableKind(rawValue: row["kind"]) ?? .table, baseID: row["base_id"],
                schema: schema, schemaVersion: row["schema_version"], createdAt: row["created_at"], viewGeneration: row["view_generation"])
        }
        var built: [String: TableSnapshot] = [:]
        func build(_ id: String, depth: Int) throws -> TableSnapshot? {
            if let s = built[id] { return s }
            guard let r = raw[id], depth < 64 else { return nil }
            let path = CatalogPath(components: r.path.split(separator: "/").map(String.init))
            let snap: TableSnapshot
            if r.kind == .view, r.schema.iterator != nil, let baseID = r.baseID {
                // A component view has rows of its own: it is read like a table.
                snap = TableSnapshot(
                    id: r.id, path: path, kind: .view, baseID: baseID, schemaVersion: r.schemaVersion, createdAt: r.createdAt,
                    schema: r.schema, storageID: r.id, storageSchema: r.schema, storageSchemaVersion: r.schemaVersion,
                    filters: [], ownFilterSyntax: nil, functions: functions, media: media)
            } else if r.kind == .view, let baseID = r.baseID, let base = try build(baseID, depth: depth + 1) {
                var filters = base.filters
                var own: Syntax? = nil
                if let f = r.schema.viewFilter, let syntax = SyntaxCoding.decode(try JSONParser.parse(f)) {
                    own = syntax
                    if let typed = try? ExpressionBinder(scope: base.scope, source: f).bind(syntax).0 {
                        filters.append(typed)
                    }
                }
                snap = TableSnapshot(
                    id: r.id, path: path, kind: .view, baseID: baseID, schemaVersion: r.schemaVersion, createdAt: r.createdAt,
                    schema: r.schema, storageID: base.storageID, storageSchema: base.storageSchema,
                    storageSchemaVersion: base.storageSchemaVersion, filters: filters, ownFilterSyntax: own, functions: functions, media: media)
            } else {
                let components = try raw.values.filter { $0.baseID == r.id && $0.kind == .view && $0.schema.iterator != nil }
                    .sorted { $0.path < $1.path }.compactMap { try build($0.id, depth: depth + 1) }
                snap = TableSnapshot(
                    id: r.id, path: path, kind: .table, baseID: nil, schemaVersion: r.schemaVersion, createdAt: r.createdAt,
                    schema: r.schema, storageID: r.id, storageSchema: r.schema, storageSchemaVersion: r.schemaVersion,
                    filters: [], ownFilterSyntax: nil, functions: functions, media: media, componentViews: components,
                    viewGeneration: r.viewGeneration)
            }
            built[id] = snap
            return snap
        }
        for id in raw.keys { _ = try build(id, depth: 0) }
        return CatalogState(generation: generation, directories: dirs, tables: built)
    }

    /// What a path names.
    enum Entry {
        case directory
        case table(TableSnapshot)
    }

    func entry(_ path: CatalogPath) -> Entry? {
        let key = path.description
        if directories.contains(key) { return .directory }
        if let id = tablesByPath[key], let t = tables[id] { return .table(t) }
        return nil
    }

    /// Views whose base is `id`, directly.
    func views(of id: String) -> [TableSnapshot] {
        tables.values.filter { $0.baseID == id }.sorted { $0.path < $1.path }
    }

    /// Views depending on `id`, transitively, deepest last.
    func allDependentViews(of id: String) -> [TableSnapshot] {
        var out: [TableSnapshot] = []
        var frontier = [id]
        while let next = frontier.popLast() {
            for v in views(of: next) {
                out.append(v)
                frontier.append(v.id)
            }
        }
        return out
    }

    /// Everything directly inside `dir`: (name, entry) sorted by name.
    func children(of dir: CatalogPath) -> [(CatalogPath, Entry)] {
        var out: [(CatalogPath, Entry)] = []
        let depth = dir.components.count
        for d in directories where !d.isEmpty {
            let p = CatalogPath(components: d.split(separator: "/").map(String.init))
            if p.components.count == depth + 1 && dir.contains(p) { out.append((p, .directory)) }
        }
        for t in tables.values where t.path.components.count == depth + 1 && dir.contains(t.path) {
            out.append((t.path, .table(t)))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}

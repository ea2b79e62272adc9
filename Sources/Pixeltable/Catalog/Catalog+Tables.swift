import Foundation
import GRDB

/// A column to create: a stored column of a type, or a computed column defined by an expression.
public struct ColumnSpec: Sendable, Hashable {
    /// The column's name.
    public var name: String
    /// The declared type; for computed columns, the expression's type is used when `nil`.
    public var type: ColumnType?
    /// For computed columns: the expression, e.g. `title.upper()`.
    public var expression: String?
    /// For computed columns: false to compute values when read instead of storing them.
    public var stored: Bool
    /// For computed columns: what a failing row does.
    public var onError: OnError
    /// The column's comment, shown in metadata and as the OpenAPI description.
    public var comment: String?

    /// A stored column of the given type.
    public init(_ name: String, _ type: ColumnType, comment: String? = nil) {
        self.name = name
        self.type = type
        self.expression = nil
        self.stored = true
        self.onError = .abort
        self.comment = comment
    }

    /// A computed column.
    public static func computed(_ name: String, _ expression: String, stored: Bool = true, onError: OnError = .abort, comment: String? = nil) -> ColumnSpec {
        var c = ColumnSpec(name, .json, comment: comment)
        c.type = nil
        c.expression = expression
        c.stored = stored
        c.onError = onError
        return c
    }
}

extension Catalog {
    /// Creates a table.
    ///
    /// - Parameters:
    ///   - path: Where to create it; the parent directory must exist.
    ///   - columns: The columns, stored and computed. Computed columns may use the columns
    ///     declared before them.
    ///   - primaryKey: Names of the primary-key columns, in order; they become non-null.
    ///   - comment: The table's comment.
    ///   - ifExists: `.ignore` to return the existing table instead of failing.
    /// - Returns: A handle to the new table.
    @discardableResult
    public func createTable(
        _ path: String, columns: [ColumnSpec], primaryKey: [String] = [], comment: String? = nil, ifExists: IfExists = .error
    ) async throws(PixeltableError) -> Table {
        let p = try CatalogPath(path)
        guard !p.isRoot else { throw PixeltableError(.invalidPath, "a table needs a name") }
        let schema = try Self.buildSchema(columns: columns, primaryKey: primaryKey, comment: comment, functions: functions, path: p, checkContext: functionContext)
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created: (String, CatalogPath) = try await write { db, s in
            if let existing = s.entry(p) {
                if ifExists == .ignore, case .table(let t) = existing { return (t.id, t.path) }
                throw PixeltableError(.pathAlreadyExists, "Path '\(p)' already exists.")
            }
            try Self.checkParent(s, p)
            let now = Timestamp.now.microseconds
            let text = schema.encoded()
            try db.execute(
                sql: """
                    INSERT INTO pxt_tables (id, path, kind, base_id, schema, version, schema_version, next_col_id, next_rid, created_at)
                    VALUES (?, ?, 'table', NULL, ?, 0, 0, ?, 0, ?)
                    """,
                arguments: [id, p.description, text, (schema.columns.map(\.id).max() ?? -1) + 1, now])
            try db.execute(sql: "INSERT INTO pxt_schemas (table_id, schema_version, schema) VALUES (?, 0, ?)", arguments: [id, text])
            let added = schema.columns.filter { !$0.isHidden }.map(\.name)
            try Self.recordVersion(
                db, tableID: id, version: 0, at: now, change: .schema, counts: .zero,
                schemaChange: added.isEmpty ? nil : "Added: " + added.joined(separator: ", "), schemaVersion: 0)
            try StoreDDL.createDataTable(db, tableID: id, schema: schema)
            try CatalogState.bumpGeneration(db)
            return (id, p)
        }
        return Table(catalog: self, id: created.0, path: created.1)
    }

    static func checkParent(_ s: CatalogState, _ p: CatalogPath) throws(PixeltableError) {
        switch s.entry(p.parent) {
        case .directory: return
        case .table: throw PixeltableError(.invalidPath, "'\(p.parent)' is a table, not a directory")
        case nil: throw PixeltableError(.pathNotFound, "Directory '\(p.parent)' does not exist.")
        }
    }

    /// Validates column specs and assigns ids: stored columns first, then computed ones in order.
    static func buildSchema(
        columns: [ColumnSpec], primaryKey: [String], comment: String?, functions: FunctionRegistry, path: CatalogPath, checkContext: FunctionContext? = nil
    ) throws(PixeltableError) -> TableSchema {
        var schema = TableSchema()
        schema.comment = comment
        var seen = Set<String>()
        for c in columns {
            guard CatalogPath.isValidName(c.name) else {
                throw PixeltableError(.invalidColumnName, "Invalid column name '\(c.name)' in table '\(path)': names use letters, digits and underscores and start with a letter")
            }
            guard seen.insert(c.name).inserted else {
                throw PixeltableError(.columnAlreadyExists, "Duplicate column name '\(c.name)' in table '\(path)'")
            }
        }
        for k in primaryKey {
            guard let c = columns.first(where: { $0.name == k }) else {
                throw PixeltableError(.columnNotFound, "Primary key column '\(k)' is not a column of table '\(path)'")
            }
            guard c.expression == nil else {
                throw PixeltableError(.invalidArgument, "Primary key column '\(k)' of table '\(path)' cannot be a computed column")
            }
            try checkPrimaryKeyType(c.type ?? .json, name: k, path: path)
        }
        if Set(primaryKey).count != primaryKey.count {
            throw PixeltableError(.invalidArgument, "Primary key of table '\(path)' names a column twice")
        }
        var nextID = 0
        for c in columns where c.expression == nil {
            var type = c.type ?? .json
            if primaryKey.contains(c.name) { type.nullable = false }
            schema.columns.append(ColumnRecord(id: nextID, name: c.name, type: type, isPrimaryKey: primaryKey.contains(c.name), comment: c.comment))
            nextID += 1
        }
        schema.primaryKey = primaryKey.compactMap { k in schema.columns.first { $0.name == k }?.id }
        for c in columns where c.expression != nil {
            let rec = try compileComputed(c, id: nextID, schema: schema, functions: functions, path: path, version: 0, checkContext: checkContext)
            schema.columns.append(rec)
            nextID += 1
        }
        if !schema.primaryKey.isEmpty {
            schema.indexes.append(IndexRecord(name: "pk", columnID: schema.primaryKey[0], kind: .btree, isAutomatic: true))
        }
        return schema
    }

    static func checkPrimaryKeyType(_ t: ColumnType, name: String, path: CatalogPath) throws(PixeltableError) {
        switch t.kind {
        case .string, .int, .float, .bool, .timestamp, .date, .uuid: return
        default:
            throw PixeltableError(.invalidType, "Primary key column '\(name)' of table '\(path)' has type \(t.baseDescription); primary keys must be String, Int, Float, Bool, Timestamp, Date or UUID")
        }
    }

    /// Binds a computed column's expression against `schema` and returns its record.
    static func compileComputed(
        _ c: ColumnSpec, id: Int, schema: TableSchema, functions: FunctionRegistry, path: CatalogPath, version: Int, checkContext: FunctionContext? = nil
    ) throws(PixeltableError) -> ColumnRecord {
        guard let text = c.expression else { throw PixeltableError(.internalError, "not a computed column") }
        var scope = ExpressionScope(
            columns: schema.columns.filter { !$0.isHidden }.map { .init(id: $0.id, name: $0.name, type: $0.type, isComputed: $0.isComputed) },
            functions: functions)
        scope.checkContext = checkContext
        let typed: TypedExpr
        let stored: Syntax
        do {
            let syntax = try ExpressionParser.parse(text)
            (typed, stored) = try ExpressionBinder(scope: scope, source: text).bind(syntax)
        } catch {
            throw PixeltableError(.invalidExpression, "computed column '\(c.name)' of table '\(path)': \(error.message) at column \(error.column) of '\(text)'")
        }
        var type = typed.type
        if let declared = c.type {
            guard declared.accepts(typed.type.required) || declared.kind == typed.type.kind else {
                throw PixeltableError(.typeMismatch, "computed column '\(c.name)' of table '\(path)' is declared \(declared.baseDescription) but '\(text)' is \(typed.type.baseDescription)")
            }
            type = declared
        }
        type.nullable = true
        if c.stored == false && !typed.isDeterministic {
            throw PixeltableError(.invalidArgument, "computed column '\(c.name)' of table '\(path)': an unstored column must be deterministic")
        }
        return ColumnRecord(
            id: id, name: c.name, type: type, expression: JSONWriter.compact.string(SyntaxCoding.encode(stored)),
            stored: c.stored, onError: c.onError, comment: c.comment, versionAdded: version)
    }

    /// Creates a view: the rows of `base` (a table or another view) that satisfy `filter`,
    /// always current with the base.
    @discardableResult
    public func createView(_ path: String, base: String, filter: String? = nil, comment: String? = nil, ifExists: IfExists = .error) async throws(PixeltableError) -> Table {
        let p = try CatalogPath(path)
        let b = try CatalogPath(base)
        let functions = self.functions
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created: (String, CatalogPath) = try await write { db, s in
            if let existing = s.entry(p) {
                if ifExists == .ignore, case .table(let t) = existing, t.kind == .view { return (t.id, t.path) }
                throw PixeltableError(.pathAlreadyExists, "Path '\(p)' already exists.")
            }
            try Self.checkParent(s, p)
            let baseSnap = try Self.resolveTable(s, b)
            var schema = TableSchema()
            schema.comment = comment
            if let filter {
                let (typed, stored) = try baseSnap.bind(filter)
                guard typed.type.kind == .bool || typed.type.kind == .json else {
                    throw PixeltableError(.typeMismatch, "view filter '\(filter)' must be a Bool expression, not \(typed.type.baseDescription)")
                }
                _ = functions
                schema.viewFilter = JSONWriter.compact.string(SyntaxCoding.encode(stored))
            }
            let now = Timestamp.now.microseconds
            let text = schema.encoded()
            try db.execute(
                sql: """
                    INSERT INTO pxt_tables (id, path, kind, base_id, schema, version, schema_version, next_col_id, next_rid, created_at)
                    VALUES (?, ?, 'view', ?, ?, 0, 0, 0, 0, ?)
                    """,
                arguments: [id, p.description, baseSnap.id, text, now])
            try db.execute(sql: "INSERT INTO pxt_schemas (table_id, schema_version, schema) VALUES (?, 0, ?)", arguments: [id, text])
            try CatalogState.bumpGeneration(db)
            return (id, p)
        }
        return Table(catalog: self, id: created.0, path: created.1)
    }

    /// Drops a table or view.
    ///
    /// Refused while views depend on it, unless `cascade` (which drops them too).
    /// - Returns: The paths dropped, dependents first.
    @discardableResult
    public func drop(_ path: String, cascade: Bool = false, ifNotExists: IfExists = .error) async throws(PixeltableError) -> [CatalogPath] {
        let p = try CatalogPath(path)
        let dropped: [TableSnapshot] = try await write { db, s in
            let t: TableSnapshot
            switch s.entry(p) {
            case .table(let x): t = x
            case .directory: throw PixeltableError(.invalidPath, "'\(p)' is a directory, not a table; use rm for directories")
            case nil:
                if ifNotExists == .ignore { return [] }
                throw PixeltableError(.pathNotFound, "Path '\(p)' does not exist.")
            }
            let dependents = s.allDependentViews(of: t.id)
            if !dependents.isEmpty && !cascade {
                let names = dependents.map { "'\($0.path)'" }.joined(separator: ", ")
                throw PixeltableError(.invalidState, "\(t.kind == .view ? "View" : "Table") '\(p)' has dependent views: \(names); drop them first or use cascade.")
            }
            let ordered = dependents.sorted { Self.viewDepth(s, $0) > Self.viewDepth(s, $1) } + [t]
            for x in ordered { try Self.dropStorage(db, x) }
            try CatalogState.bumpGeneration(db)
            return ordered
        }
        // The rows went with the transaction; their stored files follow.
        for x in dropped where x.hasOwnStorage {
            media.removeFiles(tableID: x.id)
            vectorIndexes.forget(storageID: x.id)
        }
        return dropped.map(\.path)
    }
}

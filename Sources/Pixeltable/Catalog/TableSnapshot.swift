import Foundation

/// A column as the engine uses it: its record plus its compiled expression.
struct ColumnInfo: Sendable {
    let record: ColumnRecord
    /// The compiled expression of a computed column.
    let expr: TypedExpr?
    /// The stored expression tree of a computed column.
    let syntax: Syntax?
    /// Why the expression could not be compiled in this process (e.g. a function registered
    /// by another program); writes that need it fail with this message.
    let bindError: String?

    var id: Int { record.id }
    var name: String { record.name }
    var type: ColumnType { record.type }
    var isComputed: Bool { record.isComputed }
}

/// An immutable picture of one table or view at one schema version, with compiled expressions.
///
/// Snapshots are cached per catalog generation and shared between tasks.
final class TableSnapshot: Sendable {
    let id: String
    let path: CatalogPath
    let kind: TableKind
    let baseID: String?
    let schemaVersion: Int
    let createdAt: Int64
    /// The entry's own stored schema (for views: comment and filter; columns come from the root).
    let schema: TableSchema
    /// The table that stores the rows (itself for tables, the bottom of the chain for views).
    let storageID: String
    /// The schema of the table that stores the rows.
    let storageSchema: TableSchema
    let storageSchemaVersion: Int
    /// Every column of the storage table, hidden ones included, in schema order.
    let allColumns: [ColumnInfo]
    /// User-visible columns, in schema order.
    let columns: [ColumnInfo]
    let byName: [String: ColumnInfo]
    let byID: [Int: ColumnInfo]
    /// Primary-key columns in declared order.
    let primaryKey: [ColumnInfo]
    /// View filters from the root up; empty for tables.
    let filters: [TypedExpr]
    /// The stored filter of this view (not its bases), for display.
    let ownFilterSyntax: Syntax?
    /// The row context width: one more than the largest column id.
    let width: Int
    /// The scope expressions over this table are bound in.
    let scope: ExpressionScope
    /// Columns with physical storage, hidden ones included, in schema order.
    let storedColumns: [ColumnInfo]
    /// Stored computed columns in evaluation order.
    let storedComputed: [ColumnInfo]
    /// The INSERT of one row version (built once: writes are the hot path).
    let insertSQL: String
    /// The SELECT of the live row with a given primary key.
    let primaryKeyLookupSQL: String
    /// User columns that are not computed, in schema order.
    let writableColumns: [ColumnInfo]
    /// User column names, in schema order.
    let columnNames: [String]
    /// User columns computed when read.
    let unstoredColumns: [ColumnInfo]
    /// Where media references resolve to files, and where written media go.
    let media: MediaStore?
    /// Stored columns of media types, whose values are files.
    let mediaColumns: [ColumnInfo]
    /// The stored computed columns that call a function that runs batches (a model, a remote
    /// API): such columns are computed outside transactions and off the cooperative pool.
    /// Found once per snapshot, not per write.
    let slowColumnIDs: Set<Int>
    /// The component views of this table, whose rows its writes make (empty for views).
    let componentViews: [TableSnapshot]
    /// The table's `view_generation` when read: writes check it (``RowWriter/beginInsert(_:rowCount:)``)
    /// so that a write prepared without a view created since is redone.
    let viewGeneration: Int
    /// Whether any stored computed column is one of ``slowColumnIDs``.
    var callsSlowFunctions: Bool { !slowColumnIDs.isEmpty }

    /// Whether any of `columns` calls a model or a remote API.
    func callsSlowFunctions(_ columns: [ColumnInfo]) -> Bool { columns.contains { slowColumnIDs.contains($0.id) } }

    init(
        id: String, path: CatalogPath, kind: TableKind, baseID: String?, schemaVersion: Int, createdAt: Int64,
        schema: TableSchema, storageID: String, storageSchema: TableSchema, storageSchemaVersion: Int,
        filters: [TypedExpr], ownFilterSyntax: Syntax?, functions: FunctionRegistry, media: MediaStore? = nil,
        componentViews: [TableSnapshot] = [], viewGeneration: Int = 0
    ) {
        self.media = media
        self.componentViews = componentViews
        self.viewGeneration = viewGeneration
        self.id = id
        self.path = path
        self.kind = kind
        self.baseID = baseID
        self.schemaVersion = schemaVersion
        self.createdAt = createdAt
        self.schema = schema
        self.storageID = storageID
        self.storageSchema = storageSchema
        self.storageSchemaVersion = storageSchemaVersion
        self.filters = filters
        self.ownFilterSyntax = ownFilterSyntax
        self.width = (storageSchema.columns.map(\.id).max() ?? -1) + 1

        // Columns are compiled in id order: a computed column can only use columns that
        // existed before it, so id order is also dependency order.
        var compiled: [Int: ColumnInfo] = [:]
        var scopeColumns: [ExpressionScope.Column] = []
        var embeddingIndexes: [ExpressionScope.EmbeddingIndex] = []
        for rec in storageSchema.columns.sorted(by: { $0.id < $1.id }) {
            var info = ColumnInfo(record: rec, expr: nil, syntax: nil, bindError: nil)
            if let text = rec.expression {
                let scope = ExpressionScope(columns: scopeColumns, functions: functions, embeddingIndexes: embeddingIndexes)
                do {
                    guard let syntax = SyntaxCoding.decode(try JSONParser.parse(text)) else {
                        throw ExpressionError(message: "unreadable stored expression", offset: 0, source: text)
                    }
                    let (typed, _) = try ExpressionBinder(scope: scope, source: rec.name).bind(syntax)
                    info = ColumnInfo(record: rec, expr: typed, syntax: syntax, bindError: nil)
                } catch let e as ExpressionError {
                    info = ColumnInfo(record: rec, expr: nil, syntax: nil, bindError: "computed column '\(rec.name)' cannot be evaluated here: \(e.message)")
                } catch {
                    info = ColumnInfo(record: rec, expr: nil, syntax: nil, bindError: "computed column '\(rec.name)' cannot be evaluated here: \(error)")
                }
            }
            compiled[rec.id] = info
            if !rec.isHidden {
                scopeColumns.append(.init(id: rec.id, name: rec.name, type: rec.type, isComputed: rec.isComputed))
            }
            for idx in storageSchema.indexes where idx.kind == .embedding && idx.vectorColumnID == rec.id {
                // The query is embedded with the same call as the rows, so its other arguments
                // must be literals (`model_id='...'`).
                if let e = info.expr, case .call(let f, let args) = e.node {
                    let rest = args.dropFirst().compactMap { a -> Value? in
                        if case .literal(let v) = a.node { return v }
                        return nil
                    }
                    guard rest.count == args.count - 1 else { continue }
                    embeddingIndexes.append(
                        .init(
                            name: idx.name, columnID: idx.columnID, vectorColumnID: rec.id, embed: f, arguments: rest,
                            metric: VectorMetric(rawValue: idx.metric ?? "cosine") ?? .cosine))
                }
            }
        }
        allColumns = storageSchema.columns.compactMap { compiled[$0.id] }
        columns = allColumns.filter { !$0.record.isHidden }
        var byName: [String: ColumnInfo] = [:]
        for c in columns { byName[c.name] = c }
        self.byName = byName
        self.byID = compiled
        primaryKey = storageSchema.primaryKey.compactMap { compiled[$0] }
        scope = ExpressionScope(
            columns: columns.map { .init(id: $0.id, name: $0.name, type: $0.type, isComputed: $0.isComputed) },
            functions: functions, embeddingIndexes: embeddingIndexes)
        writableColumns = columns.filter { !$0.isComputed }
        columnNames = columns.map { $0.name }
        unstoredColumns = columns.filter { !$0.record.stored }.sorted { $0.id < $1.id }
        let stored = allColumns.filter { $0.record.stored }
        storedColumns = stored
        mediaColumns = stored.filter { $0.type.isMedia }
        storedComputed = allColumns.filter { $0.record.isComputed && $0.record.stored }.sorted { $0.id < $1.id }
        slowColumnIDs = Set(storedComputed.filter(Self.callsSlowFunction).map(\.id))
        let table = "tbl_\(storageID)"
        var cols = ["_rid", "_v_min", "_v_max"]
        for c in stored {
            cols.append(c.record.sqlName)
            if c.record.hasErrorCells { cols += [c.record.errorTypeSQLName, c.record.errorMessageSQLName] }
        }
        insertSQL = "INSERT INTO \(table) (\(cols.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: cols.count).joined(separator: ", ")))"
        let cond = primaryKey.map { "\($0.record.sqlName) = ?" }.joined(separator: " AND ")
        primaryKeyLookupSQL = "SELECT _rowid FROM \(table) WHERE _v_max = \(StoreDDL.live)" + (cond.isEmpty ? "" : " AND \(cond)")
    }

    var isView: Bool { kind == .view }
    /// Whether this is a component view: a view with rows of its own, made by an iterator.
    var isComponentView: Bool { kind == .view && schema.iterator != nil }
    /// Whether the rows live in this entry's own data table (tables and component views).
    var hasOwnStorage: Bool { storageID == id }
    var dataTableName: String { "tbl_\(storageID)" }


    /// The column named `name`, or a COLUMN_NOT_FOUND error naming the table.
    func column(_ name: String) throws(PixeltableError) -> ColumnInfo {
        guard let c = byName[name] else {
            throw PixeltableError(.columnNotFound, "Column '\(name)' unknown in table '\(path)'")
        }
        return c
    }

    /// The display text of a column's expression, naming columns by their current names.
    func displayExpression(_ c: ColumnInfo) -> String? {
        guard let s = c.syntax else { return c.record.expression == nil ? nil : "<unavailable>" }
        return SyntaxCoding.display(s) { self.byID[$0]?.name ?? "#\($0)" }
    }

    /// Whether `column`'s expression calls a function that runs batches (a model, a remote API).
    private static func callsSlowFunction(_ column: ColumnInfo) -> Bool {
        var found = false
        column.expr?.visit { e in if case .call(let f, _) = e.node, f.batch != nil { found = true } }
        return found
    }

    /// Columns whose stored values must be recomputed when the columns in `changed` change,
    /// in evaluation order.
    func dependents(of changed: Set<Int>) -> [ColumnInfo] {
        var dirty = changed
        var out: [ColumnInfo] = []
        for c in storedComputed {
            guard let e = c.expr else { continue }
            if !e.columnIDs.isDisjoint(with: dirty) {
                out.append(c)
                dirty.insert(c.id)
            }
        }
        return out
    }

    /// Binds an expression in this table's scope.
    func bind(_ text: String, parameters: [String: ColumnType]? = nil, allowAlias: Bool = false) throws(PixeltableError) -> (TypedExpr, Syntax) {
        do {
            let syntax = try ExpressionParser.parse(text, allowAlias: allowAlias)
            var scope = self.scope
            scope.parameters = parameters
            return try ExpressionBinder(scope: scope, source: text).bind(syntax)
        } catch {
            throw error.pixeltableError
        }
    }
}

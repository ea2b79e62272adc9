import GRDB

/// The physical layout of a table's rows in SQLite.
///
/// One SQLite table per Pixeltable table, `tbl_<id>`: `_rowid` (SQLite's), `_rid` (the logical
/// row, stable across versions), `_v_min`/`_v_max` (the versions in which this row version is
/// live; `_v_max` = Int64.max while current), then `c<id>` per stored column and
/// `c<id>_et`/`c<id>_em` (error type and message) per stored computed column.
enum StoreDDL {
    static let live = "9223372036854775807"

    static func columnDefinitions(_ c: ColumnRecord) -> [String] {
        guard c.hasStorage else { return [] }
        var defs = ["\(c.sqlName) \(StoredValue.sqlType(c.type))"]
        if c.hasErrorCells { defs += ["\(c.errorTypeSQLName) TEXT", "\(c.errorMessageSQLName) TEXT"] }
        return defs
    }

    static func createDataTable(_ db: Database, tableID: String, schema: TableSchema) throws {
        let name = "tbl_\(tableID)"
        var defs = ["_rowid INTEGER PRIMARY KEY", "_rid INTEGER NOT NULL", "_v_min INTEGER NOT NULL", "_v_max INTEGER NOT NULL"]
        for c in schema.columns { defs += columnDefinitions(c) }
        try db.execute(sql: "CREATE TABLE \(name) (\(defs.joined(separator: ", ")))")
        for idx in schema.indexes { try createIndex(db, tableID: tableID, schema: schema, index: idx) }
    }

    static func addColumn(_ db: Database, tableID: String, column: ColumnRecord) throws {
        for def in columnDefinitions(column) {
            try db.execute(sql: "ALTER TABLE tbl_\(tableID) ADD COLUMN \(def)")
        }
    }

    static func dropColumn(_ db: Database, tableID: String, column: ColumnRecord) throws {
        guard column.hasStorage else { return }
        var names = [column.sqlName]
        if column.hasErrorCells { names += [column.errorTypeSQLName, column.errorMessageSQLName] }
        for n in names { try db.execute(sql: "ALTER TABLE tbl_\(tableID) DROP COLUMN \(n)") }
    }

    static func indexSQLName(tableID: String, index: IndexRecord) -> String { "idx_\(tableID)_\(index.name)" }

    /// B-tree indexes cover live rows only: every current-version lookup says `_v_max = live`.
    ///
    /// An embedding index needs the retired row versions instead: its vectors in memory are
    /// brought up to date by reading the rows retired since (``VectorIndex``), through a partial
    /// index that inserts never touch.
    static func createIndex(_ db: Database, tableID: String, schema: TableSchema, index: IndexRecord) throws {
        if index.kind == .embedding {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS idx_\(tableID)__retired ON tbl_\(tableID) (_v_max) WHERE _v_max != \(live)")
            return
        }
        guard index.kind == .btree else { return }
        let name = indexSQLName(tableID: tableID, index: index)
        if index.isAutomatic && index.name == "pk" {
            let cols = schema.primaryKey.compactMap { schema.column(id: $0)?.sqlName }.joined(separator: ", ")
            try db.execute(sql: "CREATE UNIQUE INDEX IF NOT EXISTS \(name) ON tbl_\(tableID) (\(cols)) WHERE _v_max = \(live)")
        } else if let c = schema.column(id: index.columnID), c.hasStorage {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(name) ON tbl_\(tableID) (\(c.sqlName)) WHERE _v_max = \(live)")
        }
    }

    static func dropIndex(_ db: Database, tableID: String, index: IndexRecord) throws {
        try db.execute(sql: "DROP INDEX IF EXISTS \(indexSQLName(tableID: tableID, index: index))")
    }
}

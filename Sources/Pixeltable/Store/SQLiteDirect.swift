import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps GRDB's cached statements with SQLite's C API, for the few statements of the
/// insert path that run once per write and dominate its cost inside the write transaction.
///
/// Only used for INSERT and UPDATE statements inside a transaction GRDB manages; the statement
/// is reset right after, so GRDB finds it as it left it.
enum SQLiteDirect {
    /// SQLite's `SQLITE_TRANSIENT`: copy bound text and blobs.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds `values` to parameters 1, 2, … of `stmt` (text and blobs copied).
    static func bind(_ stmt: OpaquePointer, _ values: [DatabaseValue]) {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            switch v.storage {
            case .null: sqlite3_bind_null(stmt, index)
            case .int64(let x): sqlite3_bind_int64(stmt, index, x)
            case .double(let x): sqlite3_bind_double(stmt, index, x)
            case .string(let s): sqlite3_bind_text(stmt, index, s, -1, transient)
            case .blob(let d):
                d.withUnsafeBytes { p in _ = sqlite3_bind_blob(stmt, index, p.baseAddress, Int32(d.count), transient) }
            }
        }
    }

    private static func failure(_ db: Database, _ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
    }

    /// Runs a statement that returns no rows.
    static func execute(_ db: Database, _ sql: String, _ values: [DatabaseValue]) throws {
        let stmt = try db.cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(stmt)
        bind(stmt, values)
        let rc = sqlite3_step(stmt)
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        if rc != SQLITE_DONE && rc != SQLITE_ROW { throw failure(db, rc, sql) }
    }

    /// Runs a statement and returns the integer columns of its first row, if any.
    static func firstRowIntegers(_ db: Database, _ sql: String, _ values: [DatabaseValue], columns: Int) throws -> [Int64]? {
        let stmt = try db.cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(stmt)
        bind(stmt, values)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        var rc = sqlite3_step(stmt)
        var out: [Int64]? = nil
        if rc == SQLITE_ROW {
            out = (0..<Int32(columns)).map { sqlite3_column_int64(stmt, $0) }
            // Run to completion: an UPDATE ... RETURNING finishes its work on the last step.
            while rc == SQLITE_ROW { rc = sqlite3_step(stmt) }
        }
        if rc != SQLITE_DONE { throw failure(db, rc, sql) }
        return out
    }
}

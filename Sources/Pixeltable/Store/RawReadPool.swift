import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Read-only SQLite connections used directly through SQLite's C API, for point lookups on the
/// hot path of served query routes.
///
/// A lookup through GRDB costs a hop to a reader queue and a savepoint around one SELECT;
/// here a lookup borrows an idle connection, steps one cached statement in autocommit mode
/// (which still reads one consistent WAL snapshot), and gives the connection back.
final class RawReadPool: Sendable {
    let path: String
    private let idle = Mutex<[RawReadConnection]>([])

    init(path: String) { self.path = path }

    /// Runs `body` with an idle connection, opening one if none is free.
    func withConnection<T>(_ body: (RawReadConnection) throws -> T) throws -> T {
        let conn = try idle.withLock { $0.popLast() } ?? RawReadConnection(path: path)
        defer { idle.withLock { $0.append(conn) } }
        return try body(conn)
    }
}

/// One read-only connection with its prepared statements. Used by one thread at a time (the
/// pool hands it out exclusively).
final class RawReadConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws {
        var h: OpaquePointer?
        let rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let msg = h.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let h { sqlite3_close_v2(h) }
            throw PixeltableError(.databaseUnavailable, "cannot open \(path) for reading: \(msg)")
        }
        sqlite3_busy_timeout(h, 30_000)
        handle = h
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        if let handle { sqlite3_close_v2(handle) }
    }

    private func statement(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc, sql) }
        statements[sql] = s
        return s
    }

    private func error(_ rc: Int32, _ sql: String) -> PixeltableError {
        let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "error \(rc)"
        if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { return PixeltableError(.databaseUnavailable, "the catalog database is busy: \(msg)") }
        return PixeltableError(.internalError, "database error: \(msg)")
    }

    /// Runs a query and decodes its rows by `types` (one per result column).
    func query(_ sql: String, _ arguments: [DatabaseValue], types: [ColumnType]) throws -> [[Value]] {
        let s = try statement(sql)
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        SQLiteDirect.bind(s, arguments)
        var rows: [[Value]] = []
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, sql) }
            var row: [Value] = []
            row.reserveCapacity(types.count)
            for (i, t) in types.enumerated() { row.append(Self.value(s, Int32(i), t)) }
            rows.append(row)
        }
        return rows
    }

    /// A column of the current row as a cell value (see ``StoredValue``).
    static func value(_ s: OpaquePointer, _ i: Int32, _ type: ColumnType) -> Value {
        StoredValue.decode(DatabaseValue(sqliteStatement: s, index: i), type)
    }
}

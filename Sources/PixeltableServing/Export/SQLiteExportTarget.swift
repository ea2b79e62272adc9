import Foundation
import GRDB
import Pixeltable

/// `export_sql` into a SQLite file (`sqlite:///relative.db`, `sqlite:////absolute.db`), through
/// GRDB.
///
/// The file must exist: a target that is not there is a missing table, as SQLAlchemy would
/// report it, not a new empty database. Writes wait up to five seconds for a lock another
/// process holds.
final class SQLiteExportTarget: ExportTarget {
    let displayURL: String
    private let path: String
    private let queue: DatabaseQueue?

    init(path: String, displayURL: String) throws {
        self.path = path
        self.displayURL = displayURL
        guard FileManager.default.fileExists(atPath: path) else {
            queue = nil
            return
        }
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "export_sql"
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    func describe(table: String, schema: String?) async throws -> ExportTableInfo? {
        guard let queue else { return nil }
        let pragma = "PRAGMA \(schema.map { Self.quote($0) + "." } ?? "")table_info(\(Self.quote(table)))"
        return try await queue.read { db in
            let rows = try Row.fetchAll(db, sql: pragma)
            if rows.isEmpty { return nil }
            var info = ExportTableInfo(columns: [], primaryKey: [])
            var keyed: [(Int, String)] = []
            for r in rows {
                let name: String = r["name"]
                info.columns.append((name, r["type"] ?? "", nil))
                let pk: Int = r["pk"] ?? 0
                if pk > 0 { keyed.append((pk, name)) }
            }
            info.primaryKey = keyed.sorted { $0.0 < $1.0 }.map(\.1)
            return info
        }
    }

    func accepts(declaredType: String, source: ColumnType) -> Bool { ExportCompatibility.accepts(declaredType, source) }

    func placeholder(_ index: Int, cast: String?) -> String { "?" }

    func execute(_ sql: String, _ values: [ExportValue]) async throws -> Int {
        guard let queue else { throw PixeltableError(.pathNotFound, "no database file at \(path)") }
        let arguments = StatementArguments(values.map { v -> DatabaseValue in
            switch v {
            case .null: return .null
            case .int(let i): return i.databaseValue
            case .double(let d): return d.databaseValue
            case .bool(let b): return (b ? 1 : 0).databaseValue
            case .text(let s): return s.databaseValue
            }
        })
        return try await queue.write { db in
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }

    /// A missing file, a lock held past the busy timeout, a full disk or an I/O error; a
    /// constraint or a type the table refuses is the rows' fault.
    func isUnavailable(_ error: any Error) -> Bool {
        guard let e = error as? DatabaseError else { return true }
        switch e.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_NOTADB, .SQLITE_CORRUPT: return true
        default: return false
        }
    }

    func close() async {
        try? queue?.close()
    }
}

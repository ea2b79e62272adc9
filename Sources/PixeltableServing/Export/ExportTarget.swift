import Foundation
import Pixeltable

/// A database that `export_sql` writes to: the seam between routes and a database driver.
///
/// Routes see only this protocol; ``SQLiteExportTarget`` implements it over GRDB, and a
/// PostgreSQL driver is the second implementation in view (the way Hummingbird's
/// `PersistDriver` has a memory and a Redis driver). An implementation is shared by every
/// route that names the same connection string, and must be safe to use from many requests at
/// once.
protocol ExportTarget: Sendable {
    /// The connection string as messages show it (password masked).
    var displayURL: String { get }

    /// The columns and primary key of `table` (qualified by `schema` when given), as the
    /// database's catalog says; `nil` when there is no such table.
    func describe(table: String, schema: String?) async throws -> ExportTableInfo?

    /// Whether a column the database declares as `declaredType` takes values of `source`.
    func accepts(declaredType: String, source: ColumnType) -> Bool

    /// The `index`-th (1-based) parameter placeholder of a statement, for a column whose
    /// ``ExportTableInfo`` cast is `cast`: `?`, or `$1::jsonb`.
    func placeholder(_ index: Int, cast: String?) -> String

    /// Runs one statement with `values` bound in order and commits it; the number of rows it
    /// changed.
    func execute(_ sql: String, _ values: [ExportValue]) async throws -> Int

    /// Closes the connections (service shutdown).
    func close() async

    /// A driver's error as a line for messages and the server log, holding no password.
    func explain(_ error: any Error) -> String

    /// Whether `error` says the database cannot be used just now (it is down, unreachable,
    /// refusing connections, or the login fails) rather than that it refused the statement's
    /// rows: the outbox then waits and tries again, without holding the rows at fault.
    func isUnavailable(_ error: any Error) -> Bool
}

/// A target table as its database describes it.
struct ExportTableInfo: Sendable {
    /// Column names, declared types (as messages show them) and, where the database needs
    /// values cast to the column's type, the type to cast to; in table order.
    var columns: [(name: String, type: String, cast: String?)]
    /// The primary key's columns, in key order (empty when it has none).
    var primaryKey: [String]
}

/// One value bound into an export statement.
enum ExportValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case text(String)

    /// A response field's value: JSON arrays and objects are written as JSON text.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .text(s)
        default: self = .text(JSONWriter.compact.string(json))
        }
    }
}

extension ExportTarget {
    func explain(_ error: any Error) -> String { SQLExporter.reason(error) }

    /// `"name"`, or `"schema"."name"`: identifiers quoted as both SQLite and PostgreSQL read them.
    func qualified(_ table: String, schema: String?) -> String {
        let t = Self.quote(table)
        return schema.map { Self.quote($0) + "." + t } ?? t
    }

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import Foundation
import Pixeltable

/// One route's `export_sql`: checked against the target table when the route is registered,
/// then one statement per request, whose values are the fields of the response body.
///
/// The checks and their messages are Pixeltable's (reference §1.11): the table must exist,
/// every response field must be one of its columns with a compatible type, and `update` (and
/// `merge`, which Pixeltable does not have) needs the target's primary key among the fields and
/// at least one other field to set.
struct SQLExporter: Sendable {
    /// How each row is written.
    enum Method: String, Sendable {
        /// `INSERT`: the target is an audit log.
        case insert
        /// `UPDATE … WHERE pk = …`, exactly one row: the target is a current-state view.
        case update
        /// `INSERT … ON CONFLICT (pk) DO UPDATE`: an upsert on the target's primary key.
        case merge
    }

    let method: Method
    /// Whether rows go during the request or through the outbox (``OutboxDelivery``).
    let delivery: SQLExport.Delivery
    let target: any ExportTarget
    /// The table, quoted and qualified, as messages name it.
    let tableName: String
    let statement: ExportStatement
    /// Gathers concurrent requests' rows into one statement (`insert` and `merge`).
    let batcher: ExportBatcher?

    /// Checks `export` against its target for a route whose responses have the fields `source`.
    ///
    /// - Parameter p: The registration call, for messages (`add_insert_route()`).
    static func make(
        _ export: SQLExport, _ p: String, source: [(name: String, type: ColumnType)], targets: ExportTargets
    ) async throws(PixeltableError) -> SQLExporter {
        guard let method = Method(rawValue: export.method) else {
            throw PixeltableError(.invalidArgument, "\(p): export_sql method must be 'insert', 'update' or 'merge' (got '\(export.method)')")
        }
        for c in source where c.type.kind == .array || c.type.kind == .binary {
            throw PixeltableError(.unsupportedOperation, "\(p): column '\(c.name)' of type \(c.type.baseDescription) cannot be exported")
        }
        let target = try targets.target(for: export.dbConnect)
        let info: ExportTableInfo?
        do {
            info = try await target.describe(table: export.table, schema: export.dbSchema)
        } catch {
            throw PixeltableError(.invalidConfiguration, "\(p): cannot read table '\(export.table)' in:\n\(target.displayURL)\n\(target.explain(error))")
        }
        guard let info else {
            throw PixeltableError(.pathNotFound, "\(p): table '\(export.table)' does not exist in:\n\(target.displayURL)")
        }
        for c in source {
            guard let column = info.columns.first(where: { $0.name == c.name }) else {
                throw PixeltableError(.columnNotFound, "\(p): column '\(c.name)' not in table '\(export.table)'")
            }
            guard target.accepts(declaredType: column.type, source: c.type) else {
                throw PixeltableError(
                    .typeMismatch,
                    "\(p): in table '\(export.table)', column '\(c.name)' of type \(column.type.uppercased()) is not compatible with the source type (\(c.type.description))")
            }
        }
        let names = source.map(\.name)
        let table = target.qualified(export.table, schema: export.dbSchema)
        let casts = Dictionary(info.columns.map { ($0.name, $0.cast) }, uniquingKeysWith: { a, _ in a })
        var key: [String] = []
        if method != .insert {
            key = info.primaryKey
            if key.isEmpty {
                throw PixeltableError(
                    .invalidArgument,
                    "\(p): target table '\(export.table)' has no primary key; required for method='\(method.rawValue)' (note: requires the target dialect's metadata to expose the primary key)")
            }
            let missing = key.filter { !names.contains($0) }
            if !missing.isEmpty {
                throw PixeltableError(
                    .missingRequired,
                    "\(p): response columns must include the target table's primary-key columns (missing: \(pythonList(missing))). Add them to `outputs`.")
            }
            if names.allSatisfy({ key.contains($0) }) {
                throw PixeltableError(
                    .invalidArgument, "\(p): method='\(method.rawValue)' requires at least one non-primary-key column in the response columns (got only \(pythonList(names)))")
            }
        }
        let statement = ExportStatement(method: method, target: target, table: table, columns: names, key: key, casts: casts)
        return SQLExporter(
            method: method, delivery: export.delivery, target: target, tableName: table, statement: statement,
            batcher: method == .update ? nil : ExportBatcher(statement))
    }

    /// What went wrong with an export, as the request's answer says it.
    struct Failure: Error, Sendable {
        /// The response's `detail`: Pixeltable's words, never the database's.
        let detail: String
        /// For the server's log: what the database said.
        let cause: String
    }

    /// Writes the response `body` (an object; an array of objects is every element), committed
    /// when this returns. Rows of `insert` and `merge` routes that arrive together go in one
    /// statement (``ExportBatcher``); `update` runs one statement per row, since each must
    /// change exactly one.
    func export(_ body: JSONValue) async throws(Failure) {
        for row in rows(of: body) {
            if let batcher {
                try await batcher.write(row.values, key: row.key).get()
                continue
            }
            let changed: Int
            do {
                changed = try await target.execute(statement.sql(rows: 1), row.values)
            } catch {
                throw Failure(detail: "export_sql write failed", cause: target.explain(error))
            }
            if changed != 1 { throw Self.updateMissed(changed) }
        }
    }

    /// The rows a response `body` exports (an object is one; an array, each element), as the
    /// statement's bound values and the target key's values.
    func rows(of body: JSONValue) -> [(values: [ExportValue], key: [ExportValue])] {
        let objects: [JSONValue]
        if case .array(let items) = body { objects = items } else { objects = [body] }
        return objects.map { row in
            (statement.bindings.map { ExportValue(row[$0] ?? .null) }, statement.key.map { ExportValue(row[$0] ?? .null) })
        }
    }

    /// An `update` that did not change exactly one row.
    static func updateMissed(_ changed: Int) -> Failure {
        Failure(detail: "export_sql update affected \(changed) rows; expected 1", cause: "\(changed) rows matched the primary key")
    }

    /// A driver error as text that holds no connection string.
    static func reason(_ error: any Error) -> String {
        if let e = error as? PixeltableError { return e.message }
        return String(describing: error)
    }

    static func pythonList(_ names: [String]) -> String {
        "[" + names.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }
}

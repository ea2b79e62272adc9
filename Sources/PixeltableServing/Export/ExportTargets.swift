import Foundation
import Pixeltable
import Synchronization

/// The export targets of one router: one per distinct connection string, shared by every route
/// that names it (so three routes exporting to one database share one pool), opened when the
/// first such route is registered and closed when the service stops.
final class ExportTargets: Sendable {
    private let open = Mutex<[String: any ExportTarget]>([:])

    /// The target for `connection`, opened on first use.
    func target(for connection: String) throws(PixeltableError) -> any ExportTarget {
        try open.withLock { (all: inout [String: any ExportTarget]) throws(PixeltableError) -> any ExportTarget in
            if let t = all[connection] { return t }
            let c = try ExportConnection(connection)
            let t: any ExportTarget
            switch c.kind {
            case .sqlite(let path):
                do {
                    t = try SQLiteExportTarget(path: HomeDirectory.absolute(path), displayURL: c.redacted)
                } catch {
                    throw PixeltableError(.invalidConfiguration, "export_sql: cannot open \(c.redacted): \(SQLExporter.reason(error))")
                }
            case .postgres(let host, let port, let user, let password, let database, let parameters):
                t = try PostgresExportTarget(
                    host: host, port: port, user: user, password: password, database: database, parameters: parameters, displayURL: c.redacted)
            }
            all[connection] = t
            return t
        }
    }

    /// How many distinct targets are open.
    var count: Int { open.withLock { $0.count } }

    /// Closes every target.
    func closeAll() async {
        let all = open.withLock { t in
            let v = Array(t.values)
            t = [:]
            return v
        }
        for t in all { await t.close() }
    }
}

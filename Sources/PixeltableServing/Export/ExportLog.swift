import Foundation

/// The server's log of failed exports: what the database said goes here, never into the
/// response (which says only `export_sql write failed`) — it can name tables, constraints and
/// values the client should not see. Connection strings appear with their passwords masked.
enum ExportLog {
    static func failed(_ exporter: SQLExporter, route: String, _ cause: String) {
        let line = "pxt serve: export_sql from \(route) to \(exporter.tableName) in \(exporter.target.displayURL) failed: \(cause)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

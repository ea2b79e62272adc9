import Foundation
import Pixeltable

/// An `export_sql` connection string, parsed: which database, and how to show it without its
/// password.
///
/// Accepted, as users bring them from SQLAlchemy:
/// - `sqlite:///relative/path.db` (relative to the working directory) and
///   `sqlite:////absolute/path.db`;
/// - `postgresql://user:password@host:port/database?sslmode=require`, also spelt
///   `postgres://`, `postgresql+psycopg://` and `postgresql+psycopg2://`.
struct ExportConnection: Sendable, Hashable {
    /// The database a connection string names.
    enum Kind: Sendable, Hashable {
        /// A SQLite file.
        case sqlite(path: String)
        /// A PostgreSQL server.
        case postgres(host: String, port: Int, user: String?, password: String?, database: String?, parameters: [String: String])
    }

    /// The connection string as given (it may hold a password: never print it).
    let text: String
    let kind: Kind

    /// Parses `text`.
    ///
    /// - Throws: INVALID_CONFIGURATION naming the connection string (its password masked) and
    ///   what is wrong with it.
    init(_ text: String) throws(PixeltableError) {
        self.text = text
        let shown = Redaction.url(text)
        guard let colon = text.range(of: "://") else {
            throw PixeltableError(.invalidConfiguration, "export_sql db_connect '\(shown)' is not a database URL (expected postgresql://… or sqlite:///…)")
        }
        let scheme = text[..<colon.lowerBound].lowercased()
        let rest = String(text[colon.upperBound...])
        switch scheme {
        case "sqlite", "sqlite+pysqlite":
            // sqlite:///relative.db has the path "relative.db"; sqlite:////abs.db has "/abs.db".
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw PixeltableError(.invalidConfiguration, "export_sql db_connect '\(shown)': write sqlite:///relative.db or sqlite:////absolute.db")
            }
            var path = String(rest.dropFirst())
            if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
            kind = .sqlite(path: path.removingPercentEncoding ?? path)
        case "postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "postgresql+asyncpg", "postgresql+pg8000":
            guard let url = URLComponents(string: "postgresql://" + rest), let host = url.host, !host.isEmpty else {
                throw PixeltableError(.invalidConfiguration, "export_sql db_connect '\(shown)': cannot read the host")
            }
            var parameters: [String: String] = [:]
            for item in url.queryItems ?? [] { parameters[item.name] = item.value ?? "" }
            let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
            kind = .postgres(
                host: host, port: url.port ?? 5432, user: url.user?.removingPercentEncoding ?? url.user,
                password: url.password?.removingPercentEncoding ?? url.password, database: database.isEmpty ? nil : database, parameters: parameters)
        default:
            throw PixeltableError(
                .invalidConfiguration, "export_sql db_connect '\(shown)': unsupported database '\(scheme)' (supported: postgresql, sqlite)")
        }
    }

    /// The connection string as it may be shown: its password replaced by `***`, as SQLAlchemy
    /// renders an engine's URL.
    var redacted: String { Redaction.url(text) }
}

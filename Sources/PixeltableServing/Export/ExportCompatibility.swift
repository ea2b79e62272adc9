import Foundation
import Pixeltable

/// Which target column types take which Pixeltable types, by the words in the declared type
/// (`BIGINT`, `character varying(40)`, `timestamp with time zone`, `jsonb`): the rules of
/// SQLite's type affinity, which name PostgreSQL's types just as well.
///
/// Pixeltable asks the target database to `CAST` a sample literal to the column's type; SQLite
/// casts anything to anything, so the declared type's words are the stricter test, and one
/// that reads the same on both databases.
enum ExportCompatibility {
    /// What a declared type holds.
    enum Family: Equatable {
        case integer, real, numeric, boolean, text, json, temporal, binary
        /// No declared type (SQLite): any value.
        case any
    }

    static func family(of declared: String) -> Family {
        let t = declared.uppercased()
        if t.trimmingCharacters(in: .whitespaces).isEmpty { return .any }
        if t.contains("BOOL") { return .boolean }
        if t.contains("INT") || t.contains("SERIAL") { return .integer }
        if t.contains("JSON") { return .json }
        if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") || t.contains("UUID") || t.contains("STRING") { return .text }
        if t.contains("DATE") || t.contains("TIME") { return .temporal }
        if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") { return .real }
        if t.contains("BLOB") || t.contains("BYTEA") || t.contains("BINARY") { return .binary }
        return .numeric
    }

    /// Whether a column declared `declared` takes values of `source` (media as URL strings).
    static func accepts(_ declared: String, _ source: ColumnType) -> Bool {
        let f = family(of: declared)
        if f == .any { return true }
        switch source.kind {
        case .int: return [.integer, .real, .numeric].contains(f)
        case .float: return [.real, .numeric].contains(f)
        case .bool: return [.boolean, .integer, .numeric].contains(f)
        case .string, .uuid: return [.text, .json].contains(f)
        case .timestamp, .date: return [.temporal, .text].contains(f)
        case .json: return [.json, .text].contains(f)
        default: return source.isMedia && [.text].contains(f)
        }
    }
}

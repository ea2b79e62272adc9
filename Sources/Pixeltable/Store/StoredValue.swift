import Foundation
import GRDB

/// How cell values are laid out in SQLite.
///
/// Timestamps are INTEGER microseconds (ordered, compact), dates `YYYY-MM-DD` text (ordered),
/// UUIDs lower-case text, JSON compact text, arrays and binary BLOBs, media URL text, booleans
/// 0/1 — so that comparisons and ordering in SQL agree with the engine's own.
///
/// A string holding a NUL character is stored as a BLOB of its UTF-8 bytes: SQLite's text
/// calls (and GRDB's, which pass a length of -1) end text at the first NUL, which stored
/// `"nul\u{0}b"` as `"nul"` and made it collide with `"nul"` as a primary key. Blobs carry
/// their length, so such strings round-trip exactly and compare equal only to themselves; they
/// sort after all other strings.
enum StoredValue {
    static func encode(_ v: Value) -> DatabaseValue {
        switch v {
        case .null: return .null
        case .string(let s): return s.utf8.contains(0) ? Data(s.utf8).databaseValue : s.databaseValue
        case .media(let s): return s.databaseValue
        case .int(let i): return i.databaseValue
        case .float(let d): return d.databaseValue
        case .bool(let b): return (b ? 1 : 0).databaseValue
        case .timestamp(let t): return t.microseconds.databaseValue
        case .date(let d): return d.description.databaseValue
        case .uuid(let u): return u.uuidString.lowercased().databaseValue
        case .json(.null): return .null
        case .json(let j): return JSONWriter.compact.string(j).databaseValue
        case .array(let a): return Data(a.encoded).databaseValue
        case .binary(let b): return Data(b).databaseValue
        // Writes store images as files first (MediaPlacement); an image that still has a file
        // keeps its reference.
        case .image(let i): return i.path.map { MediaReference.file($0).url.databaseValue } ?? .null
        }
    }

    static func decode(_ dbv: DatabaseValue, _ type: ColumnType) -> Value {
        switch dbv.storage {
        case .null: return .null
        case .int64(let i):
            switch type.kind {
            case .bool: return .bool(i != 0)
            case .timestamp: return .timestamp(Timestamp(microseconds: i))
            case .float: return .float(Double(i))
            case .json: return .json(.int(i))
            default: return .int(i)
            }
        case .double(let d):
            if type.kind == .int { return .int(Int64(d)) }
            if type.kind == .json { return .json(.double(d)) }
            return .float(d)
        case .string(let s):
            switch type.kind {
            case .json: return .json((try? JSONParser.parse(s)) ?? .string(s))
            case .date: return DateValue.parse(s).map { .date($0) } ?? .string(s)
            case .uuid: return UUID(uuidString: s).map { .uuid($0) } ?? .string(s)
            case .image, .video, .audio, .document: return .media(s)
            default: return .string(s)
            }
        case .blob(let data):
            if type.kind == .string { return .string(String(decoding: data, as: UTF8.self)) }
            if type.kind == .array, let a = NDArray(encoded: [UInt8](data)) { return .array(a) }
            return .binary([UInt8](data))
        }
    }

    /// The SQLite column type for a Pixeltable type (affinity only; values carry their own).
    static func sqlType(_ t: ColumnType) -> String {
        switch t.kind {
        case .int, .bool, .timestamp: return "INTEGER"
        case .float: return "REAL"
        case .array, .binary: return "BLOB"
        default: return "TEXT"
        }
    }
}

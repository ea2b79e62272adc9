import Foundation

/// What to do when a computed column fails for a row.
public enum OnError: String, Sendable, Codable, Hashable {
    /// Reject the whole write (the default).
    case abort
    /// Store null plus the cell's `errortype` and `errormsg`.
    case ignore
}

/// The stored description of one column.
struct ColumnRecord: Codable, Sendable, Hashable {
    var id: Int
    var name: String
    var type: ColumnType
    var isPrimaryKey: Bool = false
    /// The stored (id-based) expression tree as JSON text, for computed columns.
    var expression: String? = nil
    /// False only for computed columns evaluated when read.
    var stored: Bool = true
    var onError: OnError = .abort
    var comment: String? = nil
    var versionAdded: Int = 0
    /// Hidden columns hold derived data (embedding vectors) and are not part of the user schema.
    var isHidden: Bool = false
    var customMetadata: String? = nil
    /// For a component view's copy of a base column: the base column's id.
    var baseColumnID: Int? = nil

    var isComputed: Bool { expression != nil }
    /// Whether the column has a physical place for its values.
    var hasStorage: Bool { stored }
    /// Whether per-cell errors are kept: stored computed columns.
    var hasErrorCells: Bool { stored && isComputed }

    var sqlName: String { "c\(id)" }
    var errorTypeSQLName: String { "c\(id)_et" }
    var errorMessageSQLName: String { "c\(id)_em" }
}

/// The stored description of an index.
struct IndexRecord: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable { case btree, embedding }
    var name: String
    var columnID: Int
    var kind: Kind
    /// For embedding indexes: cosine, ip or l2.
    var metric: String? = nil
    /// For embedding indexes: the embedding call as written, e.g. `text.embed_hash(dims=256)`.
    var embedding: String? = nil
    /// For embedding indexes: the hidden column holding the vectors.
    var vectorColumnID: Int? = nil
    var versionAdded: Int = 0
    /// Created by the engine (the primary key's index), not by the user.
    var isAutomatic: Bool = false
}

/// The stored schema of a table or view at one schema version.
struct TableSchema: Codable, Sendable, Hashable {
    var columns: [ColumnRecord] = []
    /// The primary key's column ids, in declared order.
    var primaryKey: [Int] = []
    var indexes: [IndexRecord] = []
    var comment: String? = nil
    /// For views: the stored filter expression as JSON text.
    var viewFilter: String? = nil
    /// For component views: the iterator that makes their rows.
    var iterator: IteratorRecord? = nil
    var customMetadata: String? = nil

    func column(named name: String) -> ColumnRecord? { columns.first { $0.name == name && !$0.isHidden } }
    func column(id: Int) -> ColumnRecord? { columns.first { $0.id == id } }

    static func decode(_ text: String) throws -> TableSchema {
        try JSONDecoder().decode(TableSchema.self, from: Data(text.utf8))
    }

    func encoded() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? String(decoding: enc.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// The stored iterator of a component view: `video.frame_iterator(video, fps=1)`.
struct IteratorRecord: Codable, Sendable, Hashable {
    /// The iterator's qualified name.
    var name: String
    /// The base column it reads.
    var inputColumnID: Int
    /// The literal arguments after the input, as a JSON object.
    var arguments: String
    /// The base's version when the view was created: the base cannot be reverted past it.
    var baseVersion: Int
    /// The view's hidden column holding each row's base row id.
    var baseRIDColumnID: Int
    /// The view's `pos` column (the component's position within its base row).
    var posColumnID: Int
    /// The call as written, for display and module diffs.
    var text: String? = nil
}

/// Whether a catalog entry is a table or a view.
public enum TableKind: String, Sendable, Codable, Hashable {
    case table, view
}

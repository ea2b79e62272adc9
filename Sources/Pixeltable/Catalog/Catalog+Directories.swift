import Foundation
import GRDB

/// One entry of a directory listing.
public struct CatalogEntry: Sendable, Hashable {
    /// The entry's path.
    public var path: CatalogPath
    /// Directory, table or view.
    public var kind: EntryKind
    /// Number of user columns (tables and views).
    public var columnCount: Int?
    /// Current version (tables and views).
    public var version: Int?
    /// Whether there is at least one computed column.
    public var hasComputedColumn: Bool
    /// Whether there is at least one index (the primary key's included).
    public var hasIndex: Bool
    /// For views: the base's path.
    public var base: CatalogPath?
    /// Number of cells holding a computed-column error, summed over versions.
    public var errorCount: Int
}

extension Catalog {
    /// Creates a directory.
    ///
    /// - Parameters:
    ///   - path: The directory's path, e.g. `a/b`.
    ///   - ifExists: `.ignore` to succeed when it already exists as a directory.
    ///   - parents: Also create missing parent directories.
    public func createDirectory(_ path: String, ifExists: IfExists = .error, parents: Bool = false) async throws(PixeltableError) {
        let p = try CatalogPath(path)
        guard !p.isRoot else {
            if ifExists == .ignore { return }
            throw PixeltableError(.pathAlreadyExists, "Path '/' already exists.")
        }
        try await write { db, s in
            switch s.entry(p) {
            case .directory:
                if ifExists == .ignore { return }
                throw PixeltableError(.pathAlreadyExists, "Path '\(p)' already exists.")
            case .table:
                throw PixeltableError(.pathAlreadyExists, "Path '\(p)' already exists (as a table).")
            case nil: break
            }
            var toCreate: [CatalogPath] = [p]
            var parent = p.parent
            while !parent.isRoot, s.entry(parent) == nil {
                guard parents else { throw PixeltableError(.pathNotFound, "Directory '\(parent)' does not exist.") }
                toCreate.append(parent)
                parent = parent.parent
            }
            if case .table = s.entry(parent) {
                throw PixeltableError(.invalidPath, "'\(parent)' is a table, not a directory")
            }
            let now = Timestamp.now.microseconds
            for d in toCreate.reversed() {
                try db.execute(sql: "INSERT INTO pxt_dirs (path, created_at) VALUES (?, ?)", arguments: [d.description, now])
            }
            try CatalogState.bumpGeneration(db)
        }
    }

    /// Lists what is directly inside a directory (or, with `recursive`, everything below it).
    public func list(_ path: String = "", recursive: Bool = false) async throws(PixeltableError) -> [CatalogEntry] {
        let p = try CatalogPath(path)
        return try await read { db, s in
            try Self.checkDirectory(s, p)
            var out: [CatalogEntry] = []
            var queue = [p]
            while let dir = queue.first {
                queue.removeFirst()
                for (child, entry) in s.children(of: dir) {
                    out.append(try Self.describeEntry(db, s, child, entry))
                    if recursive, case .directory = entry { queue.append(child) }
                }
            }
            return out
        }
    }

    /// Fails unless `p` is an existing directory, with the reference's messages.
    static func checkDirectory(_ s: CatalogState, _ p: CatalogPath) throws(PixeltableError) {
        switch s.entry(p) {
        case .directory: return
        case .table:
            // Name the first component that is not a directory, as Pixeltable does.
            var prefix = CatalogPath.root
            for c in p.components {
                prefix = prefix.appending(c)
                if case .table = s.entry(prefix) { break }
            }
            throw PixeltableError(.invalidPath, "'\(prefix)' is a table, not a directory")
        case nil:
            var prefix = CatalogPath.root
            for c in p.components {
                prefix = prefix.appending(c)
                if case .table = s.entry(prefix) {
                    throw PixeltableError(.invalidPath, "'\(prefix)' is a table, not a directory")
                }
            }
            throw PixeltableError(.pathNotFound, "Path '\(p)' does not exist.")
        }
    }

    static func describeEntry(_ db: Database, _ s: CatalogState, _ path: CatalogPath, _ entry: CatalogState.Entry) throws -> CatalogEntry {
        switch entry {
        case .directory:
            return CatalogEntry(path: path, kind: .directory, hasComputedColumn: false, hasIndex: false, errorCount: 0)
        case .table(let t):
            let (version, errors) = try versionAndErrors(db, t)
            return CatalogEntry(
                path: path, kind: t.kind == .view ? .view : .table, columnCount: t.columns.count, version: version,
                hasComputedColumn: t.columns.contains { $0.isComputed },
                hasIndex: !t.storageSchema.indexes.filter { $0.kind == .btree || $0.kind == .embedding }.isEmpty,
                base: t.baseID.flatMap { s.tables[$0]?.path }, errorCount: errors)
        }
    }

    /// A table's current version and its cumulative error count. Views report their storage
    /// table's: a view is always current with its base.
    static func versionAndErrors(_ db: Database, _ t: TableSnapshot) throws -> (Int, Int) {
        let version = try Int.fetchOne(db.cachedStatement(sql: "SELECT version FROM pxt_tables WHERE id = ?"), arguments: [t.storageID]) ?? 0
        let errors = try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(errors), 0) FROM pxt_versions WHERE table_id = ?"), arguments: [t.storageID]) ?? 0
        return (version, errors)
    }

    /// Removes a directory; with `recursive`, everything in it too.
    ///
    /// A directory that is not empty is refused without `recursive`. Views outside the
    /// directory that depend on a table inside it are never dropped silently: the removal is
    /// refused and names them.
    public func removeDirectory(_ path: String, recursive: Bool = false) async throws(PixeltableError) {
        let p = try CatalogPath(path)
        guard !p.isRoot else { throw PixeltableError(.invalidPath, "cannot remove the root directory") }
        let dropped: [String] = try await write { db, s in
            switch s.entry(p) {
            case .directory: break
            case .table: throw PixeltableError(.invalidPath, "'\(p)' is a table, not a directory; use drop for tables and views")
            case nil: throw PixeltableError(.pathNotFound, "Path '\(p)' does not exist.")
            }
            let inside = s.tables.values.filter { p.contains($0.path) }
            let subdirs = s.directories.filter { !$0.isEmpty && p.contains(CatalogPath(components: $0.split(separator: "/").map(String.init))) && $0 != p.description }
            if !recursive && (!inside.isEmpty || !subdirs.isEmpty) {
                throw PixeltableError(.invalidArgument, "Directory '\(p)' is not empty; use recursive removal (rm -r) to remove it and its contents.")
            }
            let insideIDs = Set(inside.map(\.id))
            for t in inside {
                for v in s.allDependentViews(of: t.id) where !insideIDs.contains(v.id) {
                    throw PixeltableError(.invalidState, "cannot remove '\(p)': view '\(v.path)' outside it depends on '\(t.path)'")
                }
            }
            // Views first (deepest first), then tables.
            let ordered = inside.sorted { a, b in
                if a.kind != b.kind { return a.kind == .view }
                return Self.viewDepth(s, a) > Self.viewDepth(s, b)
            }
            for t in ordered { try Self.dropStorage(db, t) }
            try db.execute(sql: "DELETE FROM pxt_dirs WHERE path = ? OR path LIKE ? ESCAPE '\\'", arguments: [p.description, Self.likePrefix(p)])
            try CatalogState.bumpGeneration(db)
            return ordered.filter(\.hasOwnStorage).map(\.id)
        }
        for id in dropped {
            media.removeFiles(tableID: id)
            vectorIndexes.forget(storageID: id)
        }
    }

    static func viewDepth(_ s: CatalogState, _ t: TableSnapshot) -> Int {
        var depth = 0
        var cur = t
        while let b = cur.baseID, let base = s.tables[b] {
            depth += 1
            cur = base
        }
        return depth
    }

    static func likePrefix(_ p: CatalogPath) -> String {
        let escaped = p.description.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return escaped + "/%"
    }

    /// Deletes a table's or view's catalog rows, and a table's stored rows.
    static func dropStorage(_ db: Database, _ t: TableSnapshot) throws {
        if t.hasOwnStorage {
            try db.execute(sql: "DROP TABLE IF EXISTS \(t.dataTableName)")
        }
        if t.isComponentView, let base = t.baseID {
            // The base's writes stop writing this view's rows (see RowWriter.beginInsert).
            try db.execute(sql: "UPDATE pxt_tables SET view_generation = view_generation + 1 WHERE id = ?", arguments: [base])
        }
        try db.execute(sql: "DELETE FROM pxt_tables WHERE id = ?", arguments: [t.id])
        try db.execute(sql: "DELETE FROM pxt_versions WHERE table_id = ?", arguments: [t.id])
        try db.execute(sql: "DELETE FROM pxt_schemas WHERE table_id = ?", arguments: [t.id])
    }

    /// Moves or renames a directory, table or view to `newPath`.
    ///
    /// The new parent must be an existing directory and `newPath` must be free.
    ///
    /// - Parameter dryRun: Check everything the move would, and change nothing: a dry run
    ///   fails exactly when the real one would.
    @discardableResult
    public func move(_ path: String, to newPath: String, dryRun: Bool = false) async throws(PixeltableError) -> CatalogPath {
        let from = try CatalogPath(path)
        let to = try CatalogPath(newPath)
        guard !from.isRoot else { throw PixeltableError(.invalidPath, "cannot move the root directory") }
        guard !to.isRoot else { throw PixeltableError(.invalidPath, "cannot move '\(from)' onto the root directory") }
        return try await write { db, s in
            guard let entry = s.entry(from) else { throw PixeltableError(.pathNotFound, "Path '\(from)' does not exist.") }
            if from == to { return to }
            if s.entry(to) != nil { throw PixeltableError(.pathAlreadyExists, "Path '\(to)' already exists.") }
            switch s.entry(to.parent) {
            case .directory: break
            case .table: throw PixeltableError(.invalidPath, "'\(to.parent)' is a table, not a directory")
            case nil: throw PixeltableError(.pathNotFound, "Directory '\(to.parent)' does not exist.")
            }
            if case .directory = entry, from.contains(to) { throw PixeltableError(.invalidPath, "cannot move '\(from)' into itself") }
            if dryRun { return to }
            switch entry {
            case .table(let t):
                try db.execute(sql: "UPDATE pxt_tables SET path = ? WHERE id = ?", arguments: [to.description, t.id])
            case .directory:
                if from.contains(to) { throw PixeltableError(.invalidPath, "cannot move '\(from)' into itself") }
                let oldPrefix = from.description
                let newPrefix = to.description
                let like = Self.likePrefix(from)
                try db.execute(sql: "UPDATE pxt_dirs SET path = ? WHERE path = ?", arguments: [newPrefix, oldPrefix])
                try db.execute(
                    sql: "UPDATE pxt_dirs SET path = ? || substr(path, ?) WHERE path LIKE ? ESCAPE '\\'",
                    arguments: [newPrefix, oldPrefix.unicodeScalars.count + 1, like])
                try db.execute(
                    sql: "UPDATE pxt_tables SET path = ? || substr(path, ?) WHERE path LIKE ? ESCAPE '\\'",
                    arguments: [newPrefix, oldPrefix.unicodeScalars.count + 1, like])
            }
            try CatalogState.bumpGeneration(db)
            return to
        }
    }
}

import GRDB

extension Table {
    /// The table's versions, newest first (at most `limit`).
    public func history(limit: Int? = nil) async throws(PixeltableError) -> [VersionInfo] {
        if let limit, limit < 1 { throw PixeltableError(.invalidArgument, "Invalid value for `n`: \(limit)") }
        let t = self
        return try await catalog.read { db, s in
            let snap = try t.snapshot(s)
            return try TableHistory.versions(db, tableID: snap.storageID, limit: limit)
        }
    }

    /// Undoes the newest version, data and schema together, and removes the media files that
    /// version wrote (files the user referenced are never touched).
    /// - Returns: The versions before and after.
    @discardableResult
    public func revert() async throws(PixeltableError) -> (from: Int, to: Int) {
        let t = self
        let (r, views) = try await catalog.write { db, s in
            let snap = try t.snapshot(s)
            // Views first: the checks must run before the base's data changes.
            let views = try TableHistory.revertComponentViews(db, snap)
            return (try TableHistory.revert(db, snap), views)
        }
        catalog.media.removeFiles(tableID: id, version: r.from)
        for (view, version) in views { catalog.media.removeFiles(tableID: view, version: version) }
        return r
    }

    /// The current schema version: it changes with every change of columns, indexes or comments.
    public func schemaVersion() async throws(PixeltableError) -> Int {
        try await snapshot().schemaVersion
    }

    /// The current version.
    public func version() async throws(PixeltableError) -> Int {
        let t = self
        return try await catalog.read { db, s in try Catalog.versionAndErrors(db, try t.snapshot(s)).0 }
    }

    /// The table's description as Pixeltable's `get_metadata()` returns it.
    public func metadata() async throws(PixeltableError) -> JSONValue {
        let t = self
        return try await catalog.read { db, s in try Self.metadata(db, s, try t.snapshot(s)) }
    }

    /// The column descriptions of this table.
    public func columns() async throws(PixeltableError) -> [ColumnDescription] {
        let snap = try await snapshot()
        return snap.columns.map { Self.describe($0, snap) }
    }

    /// The index descriptions of this table.
    public func indexes() async throws(PixeltableError) -> [IndexDescription] {
        let snap = try await snapshot()
        return Self.indexes(snap)
    }

    static func describe(_ c: ColumnInfo, _ snap: TableSnapshot) -> ColumnDescription {
        let deps = (c.expr?.columnIDs ?? []).compactMap { snap.byID[$0]?.name }.sorted()
        return ColumnDescription(
            table: snap.path, name: c.name, type: c.type, isComputed: c.isComputed, isStored: c.record.stored,
            isPrimaryKey: c.record.isPrimaryKey, computedWith: snap.displayExpression(c), dependsOn: deps, comment: c.record.comment,
            versionAdded: c.record.versionAdded, onError: c.record.onError)
    }

    static func indexes(_ snap: TableSnapshot) -> [IndexDescription] {
        snap.storageSchema.indexes.map { idx in
            let cols = idx.isAutomatic && idx.name == "pk" ? snap.primaryKey.map(\.name) : [snap.byID[idx.columnID]?.name ?? "#\(idx.columnID)"]
            return IndexDescription(table: snap.path, name: idx.name, columns: cols, kind: idx.kind.rawValue, metric: idx.metric, embedding: idx.embedding)
        }
    }

    static func metadata(_ db: Database, _ s: CatalogState, _ snap: TableSnapshot) throws -> JSONValue {
        let (version, _) = try Catalog.versionAndErrors(db, snap)
        let created = try Int64.fetchOne(db, sql: "SELECT created_at FROM pxt_versions WHERE table_id = ? AND version = ?", arguments: [snap.storageID, version]) ?? snap.createdAt
        var columns = JSONObject()
        for c in snap.columns {
            let d = describe(c, snap)
            columns[c.name] = [
                "name": .string(c.name), "type_": .string(c.type.description), "version_added": .int(Int64(c.record.versionAdded)),
                "is_stored": .bool(c.record.stored), "is_primary_key": .bool(c.record.isPrimaryKey),
                "media_validation": c.type.isMedia ? "on_write" : .null, "is_computed": .bool(c.isComputed),
                "computed_with": d.computedWith.map { .string($0) } ?? .null, "is_builtin": false,
                "depends_on": .array(d.dependsOn.map { .array([.string(snap.path.description), .string($0)]) }),
                "defined_in": .string(s.tables[snap.storageID]?.path.description ?? snap.path.description),
                "comment": c.record.comment.map { .string($0) } ?? .null, "custom_metadata": .null, "is_iterator_col": false,
                "destination": .null,
            ]
        }
        var indexObject = JSONObject()
        for idx in indexes(snap) {
            var params: JSONValue = .null
            if idx.kind == "embedding" {
                params = [
                    "metric": .string(idx.metric ?? "cosine"), "precision": "fp32", "embedding": .string(idx.embedding ?? ""),
                    "embedding_functions": .array([.string(idx.embedding ?? "")]),
                ]
            }
            indexObject[idx.name] = ["name": .string(idx.name), "columns": .array(idx.columns.map { .string($0) }), "index_type": .string(idx.kind), "parameters": params]
        }
        let base = snap.baseID.flatMap { s.tables[$0]?.path.description }
        let filter = snap.ownFilterSyntax.map { SyntaxCoding.display($0) { snap.byID[$0]?.name ?? "#\($0)" } }
        var o = JSONObject()
        o["id"] = .string(uuidString(snap.id))
        o["name"] = .string(snap.path.name)
        o["path"] = .string(snap.path.description)
        o["kind"] = .string(snap.kind.rawValue)
        o["columns"] = .object(columns)
        o["indexes"] = .object(indexObject)
        o["is_data_versioned"] = .bool(snap.kind == .table)
        o["has_default_idxs"] = .bool(false)
        o["is_view"] = .bool(snap.kind == .view)
        o["is_snapshot"] = .bool(false)
        o["version"] = .int(Int64(version))
        o["version_created"] = .string(Timestamp(microseconds: created).iso8601Micros)
        o["schema_version"] = .int(Int64(snap.storageSchemaVersion))
        o["comment"] = snap.schema.comment.map { .string($0) } ?? .null
        o["custom_metadata"] = .null
        o["media_validation"] = "on_write"
        o["primary_key"] = snap.primaryKey.isEmpty ? .null : .array(snap.primaryKey.map { .string($0.name) })
        o["base"] = base.map { .string($0) } ?? .null
        o["view_filter"] = filter.map { .string($0) } ?? .null
        o["view_sample"] = .null
        o["iterator_call"] = .null
        return .object(o)
    }

    static func uuidString(_ hex: String) -> String {
        let c = Array(hex)
        guard c.count == 32 else { return hex }
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}

/// A column as inspection commands show it.
public struct ColumnDescription: Sendable, Hashable {
    public var table: CatalogPath
    public var name: String
    public var type: ColumnType
    public var isComputed: Bool
    public var isStored: Bool
    public var isPrimaryKey: Bool
    /// The expression text of a computed column.
    public var computedWith: String?
    /// The names of the columns a computed column reads, sorted.
    public var dependsOn: [String]
    public var comment: String?
    public var versionAdded: Int
    public var onError: OnError
}

/// An index as inspection commands show it.
public struct IndexDescription: Sendable, Hashable {
    public var table: CatalogPath
    public var name: String
    public var columns: [String]
    /// `btree` or `embedding`.
    public var kind: String
    public var metric: String?
    public var embedding: String?
}

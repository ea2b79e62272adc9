import GRDB

/// One entry of a table's history (Pixeltable's `VersionMetadata`).
public struct VersionInfo: Sendable, Hashable {
    /// Whether a version changed data or schema.
    public enum ChangeType: String, Sendable, Hashable {
        case data, schema
    }

    public var version: Int
    public var createdAt: Timestamp
    public var changeType: ChangeType
    public var inserts: Int
    public var updates: Int
    public var deletes: Int
    public var errors: Int
    /// For schema changes: `Added: a, b`, `Dropped: c`, `Altered: x (renamed to y)`.
    public var schemaChange: String?

    /// The JSON shape of `get_versions()` entries.
    public var json: JSONValue {
        [
            "version": .int(Int64(version)), "created_at": .string(createdAt.iso8601Micros), "user": .null,
            "change_type": .string(changeType.rawValue), "inserts": .int(Int64(inserts)), "updates": .int(Int64(updates)),
            "deletes": .int(Int64(deletes)), "errors": .int(Int64(errors)),
            "schema_change": schemaChange.map { .string($0) } ?? .null,
        ]
    }
}

/// Row counts of one version.
struct VersionCounts: Sendable {
    var inserts = 0, updates = 0, deletes = 0, errors = 0
    static let zero = VersionCounts()
}

extension Catalog {
    static func recordVersion(
        _ db: Database, tableID: String, version: Int, at: Int64, change: VersionInfo.ChangeType, counts: VersionCounts,
        schemaChange: String?, schemaVersion: Int
    ) throws {
        try SQLiteDirect.execute(
            db,
            "INSERT INTO pxt_versions (table_id, version, created_at, change_type, inserts, updates, deletes, errors, schema_change, schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                tableID.databaseValue, version.databaseValue, at.databaseValue, change.rawValue.databaseValue, counts.inserts.databaseValue,
                counts.updates.databaseValue, counts.deletes.databaseValue, counts.errors.databaseValue, schemaChange.databaseValue,
                schemaVersion.databaseValue,
            ])
    }
}

/// History, time travel and revert.
enum TableHistory {
    static func versions(_ db: Database, tableID: String, limit: Int?) throws -> [VersionInfo] {
        var sql = "SELECT version, created_at, change_type, inserts, updates, deletes, errors, schema_change FROM pxt_versions WHERE table_id = ? ORDER BY version DESC"
        if let limit { sql += " LIMIT \(limit)" }
        return try Row.fetchAll(db, sql: sql, arguments: [tableID]).map { r in
            VersionInfo(
                version: r[0], createdAt: Timestamp(microseconds: r[1]), changeType: VersionInfo.ChangeType(rawValue: r[2]) ?? .data,
                inserts: r[3], updates: r[4], deletes: r[5], errors: r[6], schemaChange: r[7])
        }
    }

    /// The table as it was at `version`: its schema then, over the same rows.
    static func snapshot(_ db: Database, _ snap: TableSnapshot, asOf version: Int, functions: FunctionRegistry) throws -> TableSnapshot {
        let current = try Int.fetchOne(db, sql: "SELECT version FROM pxt_tables WHERE id = ?", arguments: [snap.storageID]) ?? 0
        guard version >= 0 && version <= current else {
            throw PixeltableError(.invalidArgument, "'\(snap.path)' has no version \(version); its versions are 0 to \(current)")
        }
        guard let sv = try Int.fetchOne(db, sql: "SELECT schema_version FROM pxt_versions WHERE table_id = ? AND version = ?", arguments: [snap.storageID, version]),
            let text = try String.fetchOne(db, sql: "SELECT schema FROM pxt_schemas WHERE table_id = ? AND schema_version = ?", arguments: [snap.storageID, sv])
        else {
            throw PixeltableError(.invalidArgument, "'\(snap.path)' has no record of version \(version)")
        }
        if sv == snap.storageSchemaVersion { return snap }
        let schema = try TableSchema.decode(text)
        return TableSnapshot(
            id: snap.id, path: snap.path, kind: snap.kind, baseID: snap.baseID, schemaVersion: snap.schemaVersion, createdAt: snap.createdAt,
            schema: snap.hasOwnStorage ? schema : snap.schema, storageID: snap.storageID, storageSchema: schema, storageSchemaVersion: sv,
            filters: snap.filters, ownFilterSyntax: snap.ownFilterSyntax, functions: functions, media: snap.media)
    }

    /// Undoes the table's newest version, data and schema together.
    /// - Returns: The versions before and after.
    static func revert(_ db: Database, _ snap: TableSnapshot) throws -> (from: Int, to: Int) {
        guard snap.hasOwnStorage else {
            throw PixeltableError(.unsupportedOperation, "Revert is supported on tables only; '\(snap.path)' is a view (revert its base table)")
        }
        guard let row = try Row.fetchOne(db, sql: "SELECT version, schema_version FROM pxt_tables WHERE id = ?", arguments: [snap.id]) else {
            throw PixeltableError(.tableNotFound, "Table '\(snap.path)' was dropped.")
        }
        let version: Int = row[0]
        let schemaVersion: Int = row[1]
        guard version > 0 else { throw PixeltableError(.unsupportedOperation, "Cannot revert version 0") }
        let table = snap.dataTableName
        // Data: rows written in this version disappear, rows it ended come back.
        try db.execute(sql: "DELETE FROM \(table) WHERE _v_min = ?", arguments: [version])
        try db.execute(sql: "UPDATE \(table) SET _v_max = \(StoreDDL.live) WHERE _v_max = ?", arguments: [version])
        // Schema: back to the previous schema version if this version changed it.
        let previousSV = try Int.fetchOne(db, sql: "SELECT schema_version FROM pxt_versions WHERE table_id = ? AND version = ?", arguments: [snap.id, version - 1]) ?? schemaVersion
        if previousSV != schemaVersion {
            guard let text = try String.fetchOne(db, sql: "SELECT schema FROM pxt_schemas WHERE table_id = ? AND schema_version = ?", arguments: [snap.id, previousSV]) else {
                throw PixeltableError(.internalError, "'\(snap.path)': schema version \(previousSV) is missing")
            }
            let previous = try TableSchema.decode(text)
            let current = snap.storageSchema
            // Indexes added in this version go; indexes dropped in it come back.
            for idx in current.indexes where !previous.indexes.contains(where: { $0.name == idx.name }) {
                try StoreDDL.dropIndex(db, tableID: snap.id, index: idx)
            }
            // Columns added in this version lose their storage.
            for c in current.columns where previous.column(id: c.id) == nil {
                try StoreDDL.dropColumn(db, tableID: snap.id, column: c)
            }
            for idx in previous.indexes where !current.indexes.contains(where: { $0.name == idx.name }) {
                try StoreDDL.createIndex(db, tableID: snap.id, schema: previous, index: idx)
            }
            try db.execute(sql: "DELETE FROM pxt_schemas WHERE table_id = ? AND schema_version = ?", arguments: [snap.id, schemaVersion])
            try db.execute(
                sql: "UPDATE pxt_tables SET schema = ?, schema_version = ? WHERE id = ?", arguments: [text, previousSV, snap.id])
            try CatalogState.bumpGeneration(db)
        }
        try db.execute(sql: "DELETE FROM pxt_versions WHERE table_id = ? AND version = ?", arguments: [snap.id, version])
        try db.execute(sql: "UPDATE pxt_tables SET version = ? WHERE id = ?", arguments: [version - 1, snap.id])
        return (version, version - 1)
    }

    /// The base version whose write made a component view's newest version, and that version
    /// (`nil` base version: the view's own schema change).
    static func newestVersion(_ db: Database, viewID: String) throws -> (version: Int, baseVersion: Int?)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT version, base_version FROM pxt_versions WHERE table_id = ? ORDER BY version DESC LIMIT 1", arguments: [viewID]) else {
            return nil
        }
        return (row[0], row[1])
    }

    /// Checks a revert of `snap` and, for a table, reverts its component views' versions made
    /// by the base version being undone, in the same transaction.
    /// - Returns: The (view id, reverted version) of each view reverted.
    static func revertComponentViews(_ db: Database, _ snap: TableSnapshot) throws -> [(String, Int)] {
        if snap.isComponentView {
            if let newest = try newestVersion(db, viewID: snap.id), newest.baseVersion != nil {
                throw PixeltableError(
                    .unsupportedOperation, "version \(newest.version) of view '\(snap.path)' was made by a write of its base table; revert the base table instead")
            }
            return []
        }
        guard let version = try Int.fetchOne(db, sql: "SELECT version FROM pxt_tables WHERE id = ?", arguments: [snap.id]) else { return [] }
        var reverted: [(String, Int)] = []
        for v in snap.componentViews {
            if let created = v.schema.iterator?.baseVersion, version <= created {
                throw PixeltableError(
                    .unsupportedOperation, "cannot revert '\(snap.path)' to version \(version - 1): component view '\(v.path)' was created at version \(created); drop the view first")
            }
            guard let newest = try newestVersion(db, viewID: v.id) else { continue }
            if newest.baseVersion == version {
                _ = try revert(db, v)
                reverted.append((v.id, newest.version))
            } else if try Int.fetchOne(db, sql: "SELECT 1 FROM pxt_versions WHERE table_id = ? AND base_version = ?", arguments: [v.id, version]) != nil {
                throw PixeltableError(
                    .unsupportedOperation, "cannot revert '\(snap.path)': view '\(v.path)' changed since version \(version) (its version \(newest.version)); revert the view first")
            }
        }
        return reverted
    }
}

import GRDB

/// The SQLite schema of the catalog's own metadata, created and upgraded with GRDB's migrator.
///
/// Metadata lives in the same database as the data, so a catalog change and a data change
/// commit together (DESIGN.md §4).
enum CatalogMigrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-catalog") { db in
            try db.execute(sql: """
                CREATE TABLE pxt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                INSERT INTO pxt_meta (key, value) VALUES ('generation', '1'), ('format', '1');
                CREATE TABLE pxt_dirs (path TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE pxt_tables (
                    id TEXT PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    base_id TEXT,
                    schema TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    schema_version INTEGER NOT NULL,
                    next_col_id INTEGER NOT NULL,
                    next_rid INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE pxt_versions (
                    table_id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    change_type TEXT NOT NULL,
                    inserts INTEGER NOT NULL,
                    updates INTEGER NOT NULL,
                    deletes INTEGER NOT NULL,
                    errors INTEGER NOT NULL,
                    schema_change TEXT,
                    schema_version INTEGER NOT NULL,
                    PRIMARY KEY (table_id, version)
                ) WITHOUT ROWID;
                CREATE TABLE pxt_schemas (
                    table_id TEXT NOT NULL,
                    schema_version INTEGER NOT NULL,
                    schema TEXT NOT NULL,
                    PRIMARY KEY (table_id, schema_version)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v1-jobs") { db in
            // Background jobs of `pxt serve`, kept across restarts (the serving layer's store).
            try db.execute(sql: """
                CREATE TABLE pxt_jobs (
                    id TEXT PRIMARY KEY,
                    service TEXT NOT NULL,
                    route TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    result TEXT,
                    error TEXT
                ) WITHOUT ROWID;
                CREATE INDEX pxt_jobs_created ON pxt_jobs (created_at);
                """)
        }
        m.registerMigration("v2-outbox") { db in
            // Deliveries of `export_sql` routes with `delivery = "outbox"`, written in the same
            // transaction as the rows they export (OutboxRecords).
            try db.execute(sql: """
                CREATE TABLE pxt_outbox (
                    id INTEGER PRIMARY KEY,
                    service TEXT NOT NULL,
                    route TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    created_at INTEGER NOT NULL
                );
                """)
            // No secondary index: while deliveries keep up the table holds a few hundred rows,
            // and an index would cost every write an extra B-tree insert and delete on the
            // writer thread, which is what bounds insert throughput.
        }
        m.registerMigration("v3-component-views") { db in
            // A table's component views change with every write of the table: writes check
            // `view_generation` (bumped when one is created or dropped) in the statement that
            // claims their version, so a write prepared before a view existed is redone.
            // `base_version` links a component view's data version to the base version whose
            // write made it, for revert.
            try db.execute(sql: """
                ALTER TABLE pxt_tables ADD COLUMN view_generation INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE pxt_versions ADD COLUMN base_version INTEGER;
                """)
        }
        return m
    }
}

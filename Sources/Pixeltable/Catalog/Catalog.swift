import CPxtShims
import Foundation
import GRDB
import Synchronization

/// A Pixeltable catalog: the directories, tables and views of one home directory, stored in
/// SQLite.
///
/// Open one per process and share it; it is safe to use from many tasks at once, and several
/// processes may open the same home at the same time.
///
/// ```swift
/// let catalog = try Catalog.open()
/// try await catalog.createDirectory("demo")
/// let films = try await catalog.createTable("demo/films", columns: [
///     .init("id", .int), .init("title", .string),
/// ], primaryKey: ["id"])
/// try await films.insert([["id": 1, "title": "Alien"]])
/// ```
public final class Catalog: Sendable {
    /// The home directory this catalog lives in.
    public let home: HomeDirectory
    /// The functions expressions can call; register your own here.
    public let functions: FunctionRegistry

    /// What functions see of this catalog: its home (models) and media.
    public var functionContext: FunctionContext { FunctionContext(media: media) }
    /// The home's media files: stored, temporary and cached.
    public let media: MediaStore
    /// The embedding indexes' vectors in memory and their saved HNSW graphs.
    public let vectorIndexes: VectorIndexes
    let pool: DatabasePool
    let committer: GroupCommitter
    /// Raw read-only connections for point lookups (see ``RawReadPool``).
    let rawReads: RawReadPool
    private let cached = Mutex<CatalogState?>(nil)

    /// The largest `_v_max`: a row version that is live.
    static let liveVersion = Int64.max

    private init(home: HomeDirectory, functions: FunctionRegistry, pool: DatabasePool, maxWriteBatch: Int) {
        self.home = home
        self.functions = functions
        self.media = MediaStore(home: home)
        self.pool = pool
        self.vectorIndexes = VectorIndexes(directory: home.path + "/indexes", reads: pool)
        self.committer = GroupCommitter(pool: pool, maxBatch: maxWriteBatch)
        self.rawReads = RawReadPool(path: home.databasePath)
    }

    /// Whether to try the write lock again after `tries` failed tries: yes, for 30 s in all.
    static let busyRetry: Database.BusyCallback = { tries in
        if tries < 100 {
            usleep(200)
            return true
        }
        usleep(1000)
        return tries < 100 + 30_000
    }

    /// Opens (creating if needed) the catalog in `home`.
    ///
    /// - Parameters:
    ///   - home: The home directory; defaults to `$PIXELTABLE_HOME` or `~/.pixeltable`.
    ///   - functions: The function registry expressions resolve against.
    ///   - maxWriteBatch: The most concurrent writes committed in one transaction (group
    ///     commit); 1 gives one transaction per write, the baseline the benchmarks compare with.
    public static func open(home: HomeDirectory = HomeDirectory(), functions: FunctionRegistry = FunctionRegistry(), maxWriteBatch: Int = 512) throws(PixeltableError) -> Catalog {
        try home.create()
        var config = Configuration()
        // Another process (a daemon next to a server, a second server) may hold the write lock
        // for a moment. SQLite's own busy timeout sleeps 1, 2, 5, … then 100 ms between tries, so
        // a writer that keeps committing (a group committer under load) wins every race and the
        // other process waits in 100 ms naps: two servers on one home had a 935 ms p99.9. Polling
        // the lock every 0.2 ms, then every 1 ms, lets the waiter in at the holder's next commit.
        config.busyMode = .callback(Self.busyRetry)
        config.maximumReaderCount = 8
        config.label = "pixeltable"
        do {
            let pool = try DatabasePool(path: home.databasePath, configuration: config)
            // GRDB sets synchronous=NORMAL with WAL; an acknowledged write must survive a power
            // loss, so the writer runs with FULL.
            try pool.barrierWriteWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try CatalogMigrations.migrator.migrate(pool)
            let catalog = Catalog(home: home, functions: functions, pool: pool, maxWriteBatch: max(1, maxWriteBatch))
            // Temporary files a crashed process left (an upload, an image returned by a query)
            // go after a day; younger ones may belong to another process using this home.
            catalog.media.removeStaleTemporaryFiles()
            return catalog
        } catch let e as PixeltableError {
            throw e
        } catch {
            throw PixeltableError(.databaseUnavailable, "cannot open the catalog at \(home.databasePath): \(error)")
        }
    }

    // MARK: state

    /// The catalog state as of `db`'s transaction. Only states read in read transactions (hence
    /// committed) are cached.
    func state(_ db: Database, cache: Bool) throws -> CatalogState {
        let generation = try CatalogState.generation(db)
        if let s = cached.withLock({ $0 }), s.generation == generation { return s }
        let s = try CatalogState.load(db, functions: functions, media: media)
        if cache { cached.withLock { $0 = s } }
        return s
    }

    /// Runs `body` in a read transaction with the current catalog state.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database, CatalogState) throws -> T) async throws(PixeltableError) -> T {
        do {
            return try await pool.read { db in try body(db, try self.state(db, cache: true)) }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Runs `body` in a read transaction on the calling thread: no hop to another thread, for
    /// point lookups where a hop costs more than the lookup.
    func readNow<T>(_ body: (Database, CatalogState) throws -> T) throws(PixeltableError) -> T {
        do {
            return try pool.read { db in try body(db, try self.state(db, cache: true)) }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Runs `body` in a write transaction shared with concurrent writers (group commit).
    func write<T: Sendable>(_ body: @escaping @Sendable (Database, CatalogState) throws -> T) async throws(PixeltableError) -> T {
        do {
            return try await committer.write { db in try body(db, try self.state(db, cache: false)) }
        } catch {
            throw Self.wrap(error)
        }
    }

    /// Turns any error into a Pixeltable error, translating SQLite's.
    static func wrap(_ error: any Error) -> PixeltableError {
        if let e = error as? PixeltableError { return e }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return PixeltableError(.databaseUnavailable, "the catalog database is busy: \(e.message ?? "locked")")
            case .SQLITE_FULL:
                return PixeltableError(.storeUnavailable, "the disk is full: \(e.message ?? "")")
            case .SQLITE_CONSTRAINT:
                return PixeltableError(.constraintViolation, "constraint violated: \(e.message ?? "")")
            default:
                return PixeltableError(.internalError, "database error: \(e.message ?? "\(e)")")
            }
        }
        return PixeltableError(.internalError, "\(error)")
    }

    /// Configures the C allocator for a long-running server process (the daemon, `pxt serve`):
    /// memory freed after a burst of requests is kept for the next one instead of being handed
    /// back to the kernel and faulted in again, which on the write path costs more than the
    /// writes. Call once at start-up; it affects the whole process.
    public static func tuneAllocatorForServers() {
        pxt_tune_allocator()
    }

    /// How many write transactions this catalog committed and how many writes they held: the
    /// ratio is the average group-commit batch.
    public var writeStatistics: WriteStatistics { committer.statistics }

    /// The last state read, without touching the database (may be stale; writes re-check).
    var lastKnownState: CatalogState? { cached.withLock { $0 } }

    /// The current state, read fresh if the catalog changed.
    func currentState() async throws(PixeltableError) -> CatalogState {
        try await read { _, s in s }
    }

    // MARK: resolution

    static func resolveTable(_ state: CatalogState, _ path: CatalogPath) throws(PixeltableError) -> TableSnapshot {
        switch state.entry(path) {
        case .table(let t): return t
        case .directory:
            if path.isRoot { throw PixeltableError(.invalidPath, "'/' is a directory, not a table") }
            throw PixeltableError(.tableNotFound, "'\(path)' is a directory, not a table")
        case nil:
            throw PixeltableError(.pathNotFound, "Path '\(path)' does not exist.")
        }
    }

    static func resolveTable(_ state: CatalogState, id: String, path: CatalogPath) throws(PixeltableError) -> TableSnapshot {
        guard let t = state.tables[id] else {
            throw PixeltableError(.tableNotFound, "Table '\(path)' was dropped.")
        }
        return t
    }

    /// A handle to the table or view at `path`.
    public func table(_ path: String) async throws(PixeltableError) -> Table {
        let p = try CatalogPath(path)
        let t = try await read { _, s in try Self.resolveTable(s, p) }
        return Table(catalog: self, id: t.id, path: t.path)
    }

    /// What is at `path`: a directory, table or view, or nothing.
    public func kind(of path: String) async throws(PixeltableError) -> EntryKind? {
        let p = try CatalogPath(path)
        return try await read { _, s in
            switch s.entry(p) {
            case .directory: return .directory
            case .table(let t): return t.kind == .view ? .view : .table
            case nil: return nil
            }
        }
    }
}

/// What a catalog path names.
public enum EntryKind: String, Sendable, Hashable {
    case directory = "dir"
    case table
    case view
}

/// What to do when creating something that already exists.
public enum IfExists: String, Sendable {
    /// Fail with PATH_ALREADY_EXISTS.
    case error
    /// Keep the existing entry.
    case ignore
}

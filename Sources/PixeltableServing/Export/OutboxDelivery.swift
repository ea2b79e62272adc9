import Foundation
import Pixeltable
import Synchronization

/// Delivers the outbox of a router's `export_sql` routes with `delivery = "outbox"`: the
/// entries their writes recorded (``OutboxWrite``), oldest first, in as few statements as the
/// method allows, deleting each entry once the statement holding it committed.
///
/// A request signals the worker after its write commits, so under load a statement carries
/// every entry that arrived meanwhile, and alone an entry goes at once. A second after the
/// last signal the worker looks again anyway: entries re-queued by `pxt exports retry` from
/// another process, and entries whose retry time came.
///
/// Two kinds of failure are told apart (``ExportTarget/isUnavailable(_:)``):
/// - the target is unavailable (down, unreachable, refusing logins): the route waits, 0.5 s
///   doubling to a minute, and its entries wait with it, however long that takes — they are not
///   at fault, and nothing committed is dropped;
/// - the target refused rows (a constraint, an `update` matching no row): the statement is
///   retried entry by entry, so the others go through, and an entry that fails is tried again
///   after 1 s, 2 s, 4 s, … (``ServiceRouter/Configuration/outboxRetryDelay``) until
///   ``ServiceRouter/Configuration/outboxMaxAttempts`` (8), when it is marked failed for
///   `pxt exports` to list and `pxt exports retry` to re-queue.
///
/// Delivery is at least once: a crash after the target committed and before the entries were
/// deleted sends them again (`merge` and `update` make that harmless).
final class OutboxDelivery: Sendable {
    /// What the worker needs of a route.
    struct Route: Sendable {
        let exporter: SQLExporter
        /// The exported row from an entry's payload: the payload itself, or, for a closure route,
        /// what its handler makes of the row the payload holds.
        let body: @Sendable (JSONValue) async throws -> JSONValue
    }

    /// Entries read and delivered per round and route.
    static let batchSize = 2048
    /// After a round that did not fill a batch, how long entries are left to gather before the
    /// next: under load, fewer and larger rounds (each a read, a statement and a delete) leave
    /// more of the machine to the requests; a lone entry still goes within this.
    static let gather: Duration = .milliseconds(100)

    let records: OutboxRecords
    /// Failed deliveries before an entry is marked failed.
    let maxAttempts: Int
    /// The wait before an entry's first retry.
    let retryDelay: Duration
    private let routes = Mutex<[String: Route]>([:])
    private let wake = WakeSignal()
    private let worker = Mutex<Task<Void, Never>?>(nil)
    private let stopped = Mutex(false)

    init(records: OutboxRecords, maxAttempts: Int, retryDelay: Duration) {
        self.records = records
        self.maxAttempts = max(1, maxAttempts)
        self.retryDelay = retryDelay
    }

    /// Delivers `route`'s entries from now on (those left from an earlier run included).
    func add(route path: String, _ route: Route) {
        routes.withLock { $0[path] = route }
        start()
        wake.signal()
    }

    /// Says that entries were just recorded.
    func notify() { wake.signal() }

    /// Starts the worker (once); after ``stop()``, never again.
    private func start() {
        worker.withLock { task in
            guard task == nil, !stopped.withLock({ $0 }) else { return }
            task = Task.detached { [self] in await run() }
        }
    }

    /// Stops the worker once its current statement is done; entries not yet delivered stay in
    /// the outbox for the next run.
    func stop() async {
        stopped.withLock { $0 = true }
        let task = worker.withLock { $0.take() }
        task?.cancel()
        await task?.value
    }

    /// One route's wait after its target was unavailable.
    private struct Backoff {
        var until: ContinuousClock.Instant
        var delay: Duration
    }

    private func run() async {
        var backoff: [String: Backoff] = [:]
        while !Task.isCancelled {
            let all = routes.withLock { $0 }.sorted { $0.key < $1.key }
            var delivered = false
            var full = false
            var sleep: Duration = .seconds(1)
            for (path, route) in all {
                let now = ContinuousClock.now
                if let b = backoff[path], b.until > now {
                    sleep = min(sleep, b.until - now)
                    continue
                }
                guard let entries = try? await records.due(route: path, limit: Self.batchSize), !entries.isEmpty else {
                    // Refused entries waiting for their retry time.
                    if let at = try? await records.nextRetry(route: path) {
                        sleep = min(sleep, .microseconds(max(0, at.microseconds - Timestamp.now.microseconds)))
                    }
                    continue
                }
                if await deliver(entries, route, path: path) {
                    backoff[path] = nil
                    delivered = true
                    full = full || entries.count == Self.batchSize
                } else {
                    let delay = min(max((backoff[path]?.delay ?? .zero) * 2, .milliseconds(500)), .seconds(60))
                    backoff[path] = Backoff(until: .now + delay, delay: delay)
                    sleep = min(sleep, delay)
                }
                if Task.isCancelled { return }
            }
            if !delivered {
                await wake.wait(upTo: sleep)
            } else if !full {
                try? await Task.sleep(for: Self.gather)
            }
        }
    }

    /// An entry ready to go: its rows' values and keys.
    private struct Item {
        let entry: OutboxEntry
        let rows: [(values: [ExportValue], key: [ExportValue])]
    }

    /// Delivers `entries` of one route and deletes the delivered ones; false when the target was
    /// unavailable (what was delivered before that is deleted all the same).
    private func deliver(_ entries: [OutboxEntry], _ route: Route, path: String) async -> Bool {
        var done: [Int64] = []
        let available = await deliver(entries, route, path: path, done: &done)
        // Before the next round reads the outbox again, or it would send these a second time.
        try? await records.delivered(done)
        return available
    }

    private func deliver(_ entries: [OutboxEntry], _ route: Route, path: String, done: inout [Int64]) async -> Bool {
        let exporter = route.exporter
        var items: [Item] = []
        items.reserveCapacity(entries.count)
        for e in entries {
            do {
                items.append(Item(entry: e, rows: exporter.rows(of: try await route.body(e.payload))))
            } catch {
                await refused(e, "cannot build the exported row: \(error)", exporter, path: path)
            }
        }
        let groups = exporter.statement.groups(items, rows: { $0.rows.count }, keys: { $0.rows.map(\.key) })
        for group in groups {
            switch await write(group, exporter) {
            case .written:
                done += group.map(\.entry.id)
            case .unavailable(let cause):
                ExportLog.failed(exporter, route: path, cause + " (the outbox retries)")
                try? await records.unavailable(group[0].entry.id, error: cause)
                return false
            case .refused(let cause):
                guard group.count > 1 else {
                    await refused(group[0].entry, cause, exporter, path: path)
                    continue
                }
                for item in group {
                    switch await write([item], exporter) {
                    case .written: done.append(item.entry.id)
                    case .unavailable(let cause):
                        ExportLog.failed(exporter, route: path, cause + " (the outbox retries)")
                        try? await records.unavailable(item.entry.id, error: cause)
                        return false
                    case .refused(let cause): await refused(item.entry, cause, exporter, path: path)
                    }
                }
            }
        }
        return true
    }

    private enum Outcome {
        case written
        case unavailable(String)
        case refused(String)
    }

    /// Writes one statement's worth of items.
    private func write(_ group: [Item], _ exporter: SQLExporter) async -> Outcome {
        let rows = group.flatMap(\.rows)
        if rows.isEmpty { return .written }
        let target = exporter.target
        do {
            if exporter.method == .update {
                for row in rows {
                    let changed = try await target.execute(exporter.statement.sql(rows: 1), row.values)
                    if changed != 1 { return .refused(SQLExporter.updateMissed(changed).detail) }
                }
            } else {
                _ = try await target.execute(exporter.statement.sql(rows: rows.count), rows.flatMap(\.values))
            }
            return .written
        } catch {
            return target.isUnavailable(error) ? .unavailable(target.explain(error)) : .refused(target.explain(error))
        }
    }

    /// Records a refused entry: tried again after a backoff, or failed for good.
    private func refused(_ entry: OutboxEntry, _ cause: String, _ exporter: SQLExporter, path: String) async {
        let attempts = entry.attempts + 1
        let giveUp = attempts >= maxAttempts
        ExportLog.failed(exporter, route: path, cause + (giveUp ? " (outbox entry \(entry.id) failed \(attempts) times; see pxt exports)" : " (the outbox retries)"))
        let delay = retryDelay * (1 << min(attempts - 1, 16))
        let micros = delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000
        let retryAt = Timestamp(microseconds: Timestamp.now.microseconds + micros)
        try? await records.attemptFailed(entry.id, error: cause, retryAt: retryAt, giveUp: giveUp)
    }
}

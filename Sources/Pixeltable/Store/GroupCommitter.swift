import Dispatch
import Foundation
import GRDB
import Synchronization

/// Runs write operations from many tasks in shared transactions.
///
/// While one transaction is committing, newly submitted operations queue up; the next
/// transaction runs them all. A caller resumes only after the transaction holding its operation
/// has committed (with `synchronous=FULL`, after fsync), so an acknowledged write is on disk —
/// group commit buys throughput, never weaker durability.
///
/// A batch first runs without savepoints. If any operation fails, the whole transaction is
/// rolled back and the batch runs again with each operation in its own savepoint, so that the
/// failing one rolls back alone and the others commit. Failures are rare (a duplicate key, a
/// changed schema), so the common case pays for no savepoints; operations must therefore only
/// depend on the database, as they may run twice.
final class GroupCommitter: Sendable {
    private struct Pending: Sendable {
        let run: @Sendable (Database) throws -> Void
        let finish: @Sendable (Result<Void, any Error>) -> Void
    }

    private struct State {
        var queue: [Pending] = []
        /// The writer thread starts out waiting for work.
        var writerWaiting = true
        var stopped = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    private let counters = Mutex(WriteStatistics())
    private let wakeUp = DispatchSemaphore(value: 0)
    /// The most operations in one transaction; bounds the latency of the first one in a batch.
    private let maxBatch: Int

    init(pool: DatabasePool, maxBatch: Int = 512) {
        self.pool = pool
        self.maxBatch = maxBatch
        // A dedicated thread runs the transactions: writes wait on fsync, which must not hold a
        // thread of Swift's cooperative pool, and a thread of its own starts the next batch the
        // moment the previous one committed, without a hop through the task scheduler.
        let thread = Thread { [weak self, wakeUp] in
            while true {
                wakeUp.wait()
                guard let self else { return }
                if !self.drain() { return }
            }
        }
        thread.name = "pxt-writer"
        thread.start()
    }

    deinit {
        state.withLock { $0.stopped = true }
        wakeUp.signal()
    }

    /// Runs `operation` in a write transaction shared with concurrent callers and returns its
    /// result once that transaction has committed.
    func write<T: Sendable>(_ operation: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, any Error>) in
            let result = Mutex<T?>(nil)
            let pending = Pending(
                run: { db in
                    let value = try operation(db)
                    result.withLock { $0 = value }
                },
                finish: { outcome in
                    switch outcome {
                    case .success:
                        if let v = result.withLock({ $0.take() }) {
                            cont.resume(returning: v)
                        } else {
                            cont.resume(throwing: PixeltableError(.internalError, "write operation produced no result"))
                        }
                    case .failure(let e): cont.resume(throwing: e)
                    }
                })
            let wake = state.withLock { s -> Bool in
                s.queue.append(pending)
                if s.writerWaiting {
                    s.writerWaiting = false
                    return true
                }
                return false
            }
            if wake { wakeUp.signal() }
        }
    }

    /// Commits batches until the queue is empty; returns false once stopped.
    private func drain() -> Bool {
        var lastBatch = 0
        while true {
            let stopped: Bool? = state.withLock { s in
                if s.queue.isEmpty {
                    s.writerWaiting = true
                    return s.stopped
                }
                return nil
            }
            if let stopped { return !stopped }
            lastBatch = commitArriving(expecting: lastBatch)
            counters.withLock {
                $0.transactions += 1
                $0.operations += lastBatch
            }
        }
    }

    /// Removes up to `limit` queued operations.
    private func take(_ limit: Int) -> [Pending] {
        state.withLock { s in
            let n = min(s.queue.count, limit)
            if n == 0 { return [] }
            let taken = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            return taken
        }
    }

    /// Thrown inside a fast-path transaction to roll it back before the savepoint path.
    private struct RetryWithSavepoints: Error {}

    /// Opens a transaction, runs queued operations in it as they arrive, commits, and reports
    /// each outcome. Returns how many operations the transaction held.
    ///
    /// Operations run while later ones are still being submitted, so the writer does not sit idle
    /// while callers prepare their next write. When many writers each have one write outstanding
    /// they would otherwise fall into groups alternating between two transactions; holding the
    /// transaction open while writes keep arriving (at most a millisecond, and only until
    /// three-quarters of the previous batch is in) merges them into one and halves the fsyncs.
    /// A lone writer never waits.
    private func commitArriving(expecting lastBatch: Int) -> Int {
        let target = lastBatch > 1 ? min(maxBatch, lastBatch * 3 / 4 + 1) : 1
        var batch: [Pending] = []
        var outcomes: [Result<Void, any Error>] = []
        do {
            try pool.write { db in
                var waited = 0
                var quiet = 0
                while batch.count < maxBatch {
                    let arrived = take(maxBatch - batch.count)
                    if arrived.isEmpty {
                        // Stop once enough is in, the wait is used up, or nothing arrived for
                        // 150 µs: the others are not coming soon.
                        if batch.count >= target || waited >= 1000 || quiet >= 3 { break }
                        usleep(50)
                        waited += 50
                        quiet += 1
                        continue
                    }
                    quiet = 0
                    // Everything taken joins the batch before any of it runs: an operation left
                    // out of the batch when a failure aborts the loop would never be answered.
                    batch.append(contentsOf: arrived)
                    while outcomes.count < batch.count {
                        do {
                            try batch[outcomes.count].run(db)
                            outcomes.append(.success(()))
                        } catch {
                            // The first operation alone owns the transaction so far: rolling it
                            // back is its outcome. Otherwise redo the batch with savepoints.
                            if batch.count == 1 { throw error }
                            throw RetryWithSavepoints()
                        }
                    }
                }
            }
        } catch is RetryWithSavepoints {
            commitWithSavepoints(batch)
            return batch.count
        } catch {
            // The transaction did not commit: nothing of the batch is stored. When it could not
            // even begin (a full disk, an I/O error), fail what is queued rather than retry it
            // at once, which would spin for as long as the failure lasts.
            if batch.isEmpty { batch = take(maxBatch) }
            for p in batch { p.finish(.failure(error)) }
            return batch.count
        }
        for (p, o) in zip(batch, outcomes) { p.finish(o) }
        return batch.count
    }

    /// Transactions and operations so far.
    var statistics: WriteStatistics { counters.withLock { $0 } }

    /// The slow path: each operation in its own savepoint.
    private func commitWithSavepoints(_ batch: [Pending]) {
        let outcomes = Mutex<[Result<Void, any Error>]>([])
        do {
            try pool.write { db in
                var local: [Result<Void, any Error>] = []
                local.reserveCapacity(batch.count)
                for p in batch {
                    do {
                        try db.inSavepoint {
                            try p.run(db)
                            return .commit
                        }
                        local.append(.success(()))
                    } catch {
                        local.append(.failure(error))
                    }
                }
                outcomes.withLock { $0 = local }
            }
        } catch {
            for p in batch { p.finish(.failure(error)) }
            return
        }
        let local = outcomes.withLock { $0 }
        for (p, o) in zip(batch, local) { p.finish(o) }
    }
}

/// How many write transactions a catalog committed, and how many write operations they held.
public struct WriteStatistics: Sendable, Hashable {
    /// Transactions committed (or rolled back).
    public var transactions = 0
    /// Operations run in them.
    public var operations = 0
}

import GRDB
import Synchronization

/// Runs write operations from many tasks in shared transactions.
///
/// While one transaction is committing, newly submitted operations queue up; the next
/// transaction runs them all. Each operation runs inside its own savepoint, so one failing
/// operation rolls back alone and the others still commit. A caller resumes only after the
/// transaction holding its operation has committed (with `synchronous=FULL`, after fsync), so
/// an acknowledged write is on disk — group commit buys throughput, never weaker durability.
final class GroupCommitter: Sendable {
    private struct Pending: Sendable {
        let run: @Sendable (Database) throws -> Void
        let finish: @Sendable (Result<Void, any Error>) -> Void
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())
    /// The most operations in one transaction; bounds the latency of the first one in a batch.
    private let maxBatch: Int

    init(pool: DatabasePool, maxBatch: Int = 512) {
        self.pool = pool
        self.maxBatch = maxBatch
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
            let startDrain = state.withLock { s -> Bool in
                s.queue.append(pending)
                if s.draining { return false }
                s.draining = true
                return true
            }
            if startDrain {
                Task.detached { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let batch: [Pending] = state.withLock { s in
                if s.queue.isEmpty {
                    s.draining = false
                    return []
                }
                let n = min(s.queue.count, maxBatch)
                let b = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return b
            }
            if batch.isEmpty { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) async {
        // Outcomes of each operation inside the transaction; delivered only after commit.
        let outcomes = Mutex<[Result<Void, any Error>]>([])
        do {
            try await pool.write { db in
                var local: [Result<Void, any Error>] = []
                local.reserveCapacity(batch.count)
                for p in batch {
                    do {
                        if batch.count == 1 {
                            try p.run(db)
                        } else {
                            try db.inSavepoint {
                                try p.run(db)
                                return .commit
                            }
                        }
                        local.append(.success(()))
                    } catch {
                        local.append(.failure(error))
                        if batch.count == 1 { throw error }
                    }
                }
                outcomes.withLock { $0 = local }
            }
        } catch {
            // The transaction did not commit: nothing of the batch is stored.
            for p in batch { p.finish(.failure(error)) }
            return
        }
        let local = outcomes.withLock { $0 }
        for (p, o) in zip(batch, local) { p.finish(o) }
    }
}

import Foundation
import Pixeltable
import Synchronization

/// Runs background operations with bounded concurrency and records them durably.
///
/// Unlike Pixeltable, whose finished jobs stay in memory forever, job records live in the
/// catalog database: they survive a restart (jobs cut short by one are marked failed) and are
/// pruned to a configurable count and age.
final class JobRunner: Sendable {
    let records: JobRecords
    let configuration: ServiceRouter.Configuration
    private let state = Mutex<(running: Int, waiting: [CheckedContinuation<Void, Never>], submitted: Int)>((0, [], 0))
    /// Jobs not yet finished in this process, for shutdown.
    private let active = Mutex<[String: Task<Void, Never>]>([:])

    init(records: JobRecords, configuration: ServiceRouter.Configuration) {
        self.records = records
        self.configuration = configuration
    }

    /// Marks jobs left pending by a previous run as failed; call once at start.
    func recover() async throws(PixeltableError) {
        try await records.markInterrupted()
        try await records.prune(maxCount: configuration.maxJobs, maxAge: configuration.maxJobAge)
    }

    /// Records a pending job and starts `work` (given the job's id, so that its write can record
    /// the outcome itself; see ``JobOutcomeWrite``); returns the job id (32 hex digits).
    func submit(route: String, _ work: @escaping @Sendable (String) async -> RouteAnswer) async throws(PixeltableError) -> String {
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await records.create(id: id, route: route)
        let records = records
        let task = Task.detached {
            await self.acquire()
            let answer = await work(id)
            self.release()
            let outcome: JobRecords.Outcome = answer.status < 400 ? .done(answer.body) : .failed(RouteExecutor.jobError(answer))
            try? await records.finish(id: id, outcome: outcome)
            _ = self.active.withLock { $0.removeValue(forKey: id) }
        }
        active.withLock { $0[id] = task }
        let n = state.withLock { s -> Int in
            s.submitted += 1
            return s.submitted
        }
        // Prune now and then rather than on every submission.
        if n % 100 == 0 {
            _ = try? await records.prune(maxCount: configuration.maxJobs, maxAge: configuration.maxJobAge)
        }
        return id
    }

    /// `{status, error, result}` for a job, or `nil` for an unknown id.
    func status(_ id: String) async throws(PixeltableError) -> JSONValue? {
        guard let r = try await records.get(id) else { return nil }
        return ["status": .string(r.status), "error": r.error.map { .string($0) } ?? .null, "result": r.result ?? .null]
    }

    /// Waits for the jobs started by this process to finish.
    func drain() async {
        let tasks = active.withLock { Array($0.values) }
        for t in tasks { await t.value }
    }

    private func acquire() async {
        let limit = max(1, configuration.backgroundConcurrency)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if s.running < limit {
                    s.running += 1
                    return true
                }
                s.waiting.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty {
                s.running -= 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }
}

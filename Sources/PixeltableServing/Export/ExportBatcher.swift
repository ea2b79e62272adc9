import Pixeltable
import Synchronization

/// Writes the rows of concurrent requests to one export target in as few statements as they
/// allow: the group commit of `export_sql`.
///
/// A request's row waits while a statement is running; when it finishes, every row that
/// arrived meanwhile goes in the next one (`INSERT … VALUES (…), (…)`). Under load, one round
/// trip and one commit in the target then serve dozens of requests; alone, a row goes at once.
/// A request is answered only once the statement holding its row has committed.
///
/// A failed statement is retried row by row, so that one bad row (a constraint it breaks) fails
/// only its own request. For `merge`, rows with the same key go in different statements
/// (PostgreSQL refuses to update one row twice in one statement) and in arrival order.
final class ExportBatcher: Sendable {
    private struct Pending: Sendable {
        let values: [ExportValue]
        let key: [ExportValue]
        let done: CheckedContinuation<Result<Void, SQLExporter.Failure>, Never>
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        var writing = false
    }

    private let statement: ExportStatement
    private let state = Mutex(State())

    init(_ statement: ExportStatement) {
        self.statement = statement
    }

    /// Writes one row (its values in ``ExportStatement/bindings`` order, and its key's values);
    /// returns once it is committed, or with what went wrong.
    func write(_ values: [ExportValue], key: [ExportValue]) async -> Result<Void, SQLExporter.Failure> {
        await withCheckedContinuation { done in
            let start = state.withLock { s -> Bool in
                s.queue.append(Pending(values: values, key: key, done: done))
                if s.writing { return false }
                s.writing = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Writes batches until the queue is empty.
    private func drain() async {
        while true {
            let batch = state.withLock { s -> [Pending] in
                if s.queue.isEmpty {
                    s.writing = false
                    return []
                }
                let n = min(s.queue.count, statement.maximumRows)
                let b = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return b
            }
            if batch.isEmpty { return }
            for group in statement.groups(batch, rows: { _ in 1 }, keys: { [$0.key] }) { await write(group) }
        }
    }

    private func write(_ group: [Pending]) async {
        let target = statement.target
        do {
            _ = try await target.execute(statement.sql(rows: group.count), group.flatMap(\.values))
            for p in group { p.done.resume(returning: .success(())) }
        } catch {
            guard group.count > 1 else {
                group[0].done.resume(returning: .failure(SQLExporter.Failure(detail: "export_sql write failed", cause: target.explain(error))))
                return
            }
            for p in group { await write([p]) }
        }
    }
}

import Synchronization

/// Wakes one waiting task: ``signal()`` from anywhere, ``wait(upTo:)`` in the task. A signal
/// sent while nobody waits is kept (once), so a waiter never misses work that arrived just
/// before it went to sleep.
final class WakeSignal: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Tells a timeout apart from the wait it was started for.
        var generation = 0
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next one.
    func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.signalled = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Returns at the next signal, or after `limit`; at once when a signal is pending or the
    /// task is cancelled.
    func wait(upTo limit: Duration) async {
        if Task.isCancelled { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let generation = state.withLock { s -> Int? in
                    if s.signalled {
                        s.signalled = false
                        return nil
                    }
                    s.generation += 1
                    s.waiter = c
                    return s.generation
                }
                guard let generation else {
                    c.resume()
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: limit)
                    self?.expire(generation)
                }
            }
        } onCancel: {
            signal()
        }
    }

    private func expire(_ generation: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.generation == generation, let w = s.waiter else { return nil }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }
}

import GRDB
import Synchronization

/// The component views one write of a base table keeps in step (see ``ComponentViewWriter``):
/// their writers, the rows made ahead of the transaction, and their media placements.
final class ComponentViewBatch: Sendable {
    let writers: [ComponentViewWriter]
    let placements: [MediaPlacement?]
    let context: FunctionContext
    /// Rows made ahead (inserts), one entry per writer; rows made inside the transaction
    /// (updates) replace them, so that their scratch files can be removed afterwards.
    private let pendings: Mutex<[ComponentViewWriter.Pending]>

    private init(writers: [ComponentViewWriter], pendings: [ComponentViewWriter.Pending], context: FunctionContext) {
        self.writers = writers
        self.placements = writers.map { $0.placement() }
        self.context = context
        self.pendings = Mutex(pendings)
    }

    /// The writers of `snap`'s component views, with nothing made yet (deletes, updates).
    static func writers(_ snap: TableSnapshot, context: FunctionContext) throws(PixeltableError) -> ComponentViewBatch {
        let writers = try snap.componentViews.map { v throws(PixeltableError) in try ComponentViewWriter(view: v) }
        return ComponentViewBatch(writers: writers, pendings: writers.map { _ in .init(rows: [], baseIndex: [], errors: 0) }, context: context)
    }

    /// The components of the rows an insert adds, made and staged before its transaction.
    static func prepare(_ snap: TableSnapshot, _ rows: [RowContext], context: FunctionContext, onError: OnError?) async throws(PixeltableError) -> ComponentViewBatch {
        if snap.componentViews.isEmpty { return ComponentViewBatch(writers: [], pendings: [], context: context) }
        let empty = try writers(snap, context: context)
        var made: [ComponentViewWriter.Pending] = []
        for w in empty.writers { made.append(try await w.generateAway(rows, context: context, onError: onError)) }
        let batch = ComponentViewBatch(writers: empty.writers, pendings: made, context: context)
        do {
            for (k, w) in batch.writers.enumerated() { try w.stage(made[k], into: batch.placements[k]) }
        } catch {
            batch.finish(committed: nil)
            throw error
        }
        return batch
    }

    /// Writes each view's version for base version `baseVersion` with the rows made ahead.
    /// - Returns: The views' new versions.
    func write(_ db: Database, baseRows: [RowContext], baseRIDs: [Int64], retiring: [Int64], baseVersion: Int) throws -> [Int] {
        let made = pendings.withLock { $0 }
        var versions: [Int] = []
        for (k, w) in writers.enumerated() {
            versions.append(
                try w.write(db, pending: made[k], baseRows: baseRows, baseRIDs: baseRIDs, retiring: retiring, baseVersion: baseVersion, placement: placements[k]))
        }
        return versions
    }

    /// Retires the components of updated base rows and makes them again from the rows' new
    /// values, inside the update's transaction.
    func remake(_ db: Database, baseRows: [RowContext], baseRIDs: [Int64], baseVersion: Int) throws -> [Int] {
        var versions: [Int] = []
        var made: [ComponentViewWriter.Pending] = []
        for (k, w) in writers.enumerated() {
            let p = try w.generate(baseRows, context: context, onError: nil)
            made.append(p)
            pendings.withLock { $0 = made + $0.dropFirst(made.count) }
            versions.append(
                try w.write(
                    db, pending: p, baseRows: baseRows, baseRIDs: baseRIDs, retiring: baseRIDs, baseVersion: baseVersion, placement: placements[k],
                    stageInside: true))
        }
        return versions
    }

    /// After the transaction: keeps the files placed for the committed versions (`nil`: none)
    /// and removes the iterators' scratch files.
    func finish(committed versions: [Int]?) {
        for (k, p) in placements.enumerated() {
            p?.finish(committed: versions.flatMap { k < $0.count ? $0[k] : nil })
        }
        ComponentViewWriter.removeScratch(pendings.withLock { $0 }, media: context.media)
    }
}

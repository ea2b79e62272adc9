/// An embedding index as `pxt idxs --embedding` shows it: what embeds, how many vectors the
/// index holds, and whether its HNSW graph is built.
public struct EmbeddingIndexStatus: Sendable, Hashable {
    /// The table or view.
    public var table: CatalogPath
    /// The index's name.
    public var name: String
    /// The indexed column.
    public var column: String
    /// The embedding call as written, e.g. `huggingface.sentence_transformer(model_id='…')`.
    public var embedding: String
    /// The model the call names (`model_id` or `model`), if any.
    public var model: String?
    /// `cosine`, `ip` or `l2`.
    public var metric: String
    /// The vectors' length, once there is one.
    public var dimensions: Int?
    /// The live rows that have a vector.
    public var rows: Int
    /// The HNSW graph: `built`, `building`, `exact` (the table is below the size that gets one:
    /// searches compare every vector), or `failed: …`.
    public var graph: String
}

extension Table {
    /// The embedding indexes of this table with what they hold. Loads each index's vectors if
    /// this process has not searched it yet.
    public func embeddingIndexStatus() async throws(PixeltableError) -> [EmbeddingIndexStatus] {
        let t = self
        let vectors = catalog.vectorIndexes
        return try await catalog.read { db, s in
            let snap = try t.snapshot(s)
            return try snap.scope.embeddingIndexes.compactMap { index -> EmbeddingIndexStatus? in
                guard let record = snap.storageSchema.indexes.first(where: { $0.name == index.name }) else { return nil }
                let st = try vectors.status(db, snap, index: index)
                var model: String? = nil
                for (i, p) in index.embed.parameters.enumerated().dropFirst() where p.name == "model_id" || p.name == "model" {
                    if i - 1 < index.arguments.count, case .string(let m) = index.arguments[i - 1] { model = m }
                }
                let graph: String
                if let failure = st?.graphFailure {
                    graph = "failed: \(failure)"
                } else if st?.graphBuilt == true {
                    graph = "built"
                } else if st?.graphBuilding == true {
                    graph = "building"
                } else {
                    graph = "exact"
                }
                return EmbeddingIndexStatus(
                    table: snap.path, name: index.name, column: snap.byID[index.columnID]?.name ?? "#\(index.columnID)",
                    embedding: record.embedding ?? "", model: model, metric: index.metric.rawValue,
                    dimensions: (st?.dimensions ?? 0) > 0 ? st?.dimensions : nil, rows: st?.rows ?? 0, graph: graph)
            }
        }
    }
}

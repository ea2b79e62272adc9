/// When embedding indexes build an HNSW graph, and its parameters.
public struct VectorIndexSettings: Sendable, Hashable {
    /// Tables with at least this many vectors get a graph (built in the background); smaller
    /// ones are searched exactly, which is as fast and never approximate.
    public var graphMinimumRows: Int
    /// Links per node (`M`), candidates while inserting (`ef_construction`) and while
    /// searching (`ef`).
    public var graphM: Int
    public var graphEfConstruction: Int
    public var graphEfSearch: Int

    /// The defaults: a graph from 50,000 rows, M 16, ef_construction 100, ef 64.
    public init(graphMinimumRows: Int = 50_000, graphM: Int = 16, graphEfConstruction: Int = 100, graphEfSearch: Int = 64) {
        self.graphMinimumRows = graphMinimumRows
        self.graphM = graphM
        self.graphEfConstruction = graphEfConstruction
        self.graphEfSearch = graphEfSearch
    }

    var graph: HNSWGraph.Parameters {
        HNSWGraph.Parameters(m: graphM, efConstruction: graphEfConstruction, efSearch: graphEfSearch)
    }
}

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

    /// The defaults: a graph from 50,000 rows, M 16, ef_construction 100, ef 200.
    ///
    /// `ef` is what buys recall: on a million clustered 384-dimensional vectors (the benchmark's),
    /// recall@10 is 0.87 at ef 64, 0.95 at 128-160 and 0.965 at 200, while the graph's part of a
    /// search only goes from about 0.2 to 0.3 ms (bench/RESULTS.md); reading the rows found
    /// costs more than that, so the default errs on the side of the right answer.
    public init(graphMinimumRows: Int = 50_000, graphM: Int = 16, graphEfConstruction: Int = 100, graphEfSearch: Int = 200) {
        self.graphMinimumRows = graphMinimumRows
        self.graphM = graphM
        self.graphEfConstruction = graphEfConstruction
        self.graphEfSearch = graphEfSearch
    }

    var graph: HNSWGraph.Parameters {
        HNSWGraph.Parameters(m: graphM, efConstruction: graphEfConstruction, efSearch: graphEfSearch)
    }
}

/// Why a vector index's graph could not be built, saved or loaded. Searches do not fail with
/// it: they fall back to exact search over the stored vectors.
struct VectorIndexError: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

import NIOCore
import Synchronization

/// Counts a server's open connections and refuses those over `limit`: a connection accepted
/// beyond it is closed at once, so the descriptors of the ones being served are never exhausted.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// The connections open now.
    var open: Int { count.load(ordering: .relaxed) }

    /// A handler for one connection's pipeline.
    func handler() -> Handler { Handler(self) }

    /// Takes a place for a new connection; `false` when the server is full.
    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue > limit {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() { count.subtract(1, ordering: .relaxed) }

    /// Holds a place for its connection while it is in the pipeline.
    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let limiter: ConnectionLimiter
        private var entered = false

        init(_ limiter: ConnectionLimiter) { self.limiter = limiter }

        func handlerAdded(context: ChannelHandlerContext) {
            entered = limiter.enter()
            if !entered { context.close(promise: nil) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if entered { limiter.leave() }
            entered = false
        }
    }
}

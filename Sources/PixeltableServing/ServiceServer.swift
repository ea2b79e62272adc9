import Foundation
import Hummingbird
import Logging
import NIOCore
import Pixeltable
import ServiceLifecycle

/// Serves a ``ServiceRouter`` over HTTP with Hummingbird until SIGINT or SIGTERM, finishing
/// in-flight requests before it stops.
public struct ServiceServer: Sendable {
    /// The router to serve.
    public let router: ServiceRouter
    /// The bind address, e.g. `0.0.0.0` or `127.0.0.1`.
    public let host: String
    /// The bind port; 0 picks a free one.
    public let port: Int

    /// A server for `router` on `host:port`.
    public init(router: ServiceRouter, host: String, port: Int) {
        self.router = router
        self.host = host
        self.port = port
    }

    /// The Hummingbird router with the service mounted, `/docs` and `/openapi.json` at the root.
    public func makeRouter() -> Router<BasicRequestContext> {
        let r = Router(context: BasicRequestContext.self)
        router.mount(on: r, docsPrefix: "")
        return r
    }

    /// Runs until a shutdown signal.
    ///
    /// - Parameters:
    ///   - onRunning: Called once with the bound port when the server accepts connections.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "pxt-serve")
        logger.logLevel = .critical
        let conf = router.configuration
        let limiter = ConnectionLimiter(limit: conf.maxConnections)
        Self.raiseDescriptorLimit()
        let app = Application(
            router: makeRouter(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        limiter.handler(), RequestTimeoutHandler(headerTimeout: .init(conf.headerTimeout), bodyTimeout: .init(conf.bodyTimeout)),
                        LingeringCloseHandler(), ExpectContinueHandler(authenticator: router.authenticator),
                    ],
                    idleTimeout: .init(conf.idleTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: "pxt", reuseAddress: true),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        // Images flushed to tmp/ for responses are fetched soon after; a day later they go.
        let media = router.catalog.media
        let sweeper = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(600))
                media.removeStaleTemporaryFiles()
            }
        }
        defer { sweeper.cancel() }
        try await app.runService()
        await router.shutdown()
    }

    /// Raises the soft limit on open descriptors to the hard one, so that the connection limit,
    /// not the default 1,024 descriptors, is what bounds the connections served.
    static func raiseDescriptorLimit() {
        var l = rlimit()
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &l) == 0, l.rlim_cur < l.rlim_max else { return }
        l.rlim_cur = l.rlim_max
        _ = setrlimit(resource, &l)
    }

    /// The address people should open: `0.0.0.0` and `::` as `localhost`, IPv6 in brackets.
    public static func displayURL(host: String, port: Int) -> String {
        var h = host
        if h == "0.0.0.0" || h == "::" || h.isEmpty { h = "localhost" } else if h.contains(":") { h = "[\(h)]" }
        return "http://\(h):\(port)"
    }

    /// Whether `error` says the port is taken.
    public static func isAddressInUse(_ error: any Error) -> Bool {
        if let e = error as? IOError, e.errnoCode == EADDRINUSE { return true }
        return "\(error)".contains("Address already in use")
    }
}

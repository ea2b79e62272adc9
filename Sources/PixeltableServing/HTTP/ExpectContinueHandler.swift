import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue`, so that clients which wait for
/// it before sending a large body (curl does, for uploads over 1 MiB) do not sit out their
/// timeout — a second, with curl — on every upload.
///
/// A request the service's authentication refuses gets no `100 Continue`: the client then
/// receives the final 401 or 403 without having sent its body (RFC 9110 §10.1.1).
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let authenticator: Authenticator?

    init(authenticator: Authenticator? = nil) { self.authenticator = authenticator }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var request) = unwrapInboundIn(data), let expect = request.headerFields[.expect], expect.lowercased() == "100-continue" {
            request.headerFields[.expect] = nil
            if !refused(request) { context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil) }
            context.fireChannelRead(wrapInboundOut(.head(request)))
            return
        }
        context.fireChannelRead(data)
    }

    /// Whether the credentials are known to be refused from the head alone (a token that needs
    /// verifying is given the benefit of the doubt).
    func refused(_ request: HTTPRequest) -> Bool {
        guard let authenticator else { return false }
        switch authenticator.decide(target: request.path, authorization: request.headerFields[.authorization], apiKey: request.headerFields[.xAPIKey]) {
        case .unauthorized, .forbidden: return true
        case .allowed, .verifyToken: return false
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }
}

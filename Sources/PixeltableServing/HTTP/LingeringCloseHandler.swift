import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Ends a connection after a response marked `Connection: close` (a 413, 415, 401 or 403
/// answered before the body was read): the response is sent, the write side shut, and the
/// connection closed once the client has closed its side or `linger` has passed.
///
/// Without it the server would read and drop a refused body to its end however large it is, or
/// sit half-closed with the rest unread, one descriptor each. Closing at once would instead make
/// the kernel answer the unread bytes with a reset, which can destroy the response before the
/// client reads it; lingering a moment (as nginx's `lingering_close` does) lets it arrive.
final class LingeringCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let linger: TimeAmount
    private var closing = false
    private var closeTask: Scheduled<Void>?

    init(linger: TimeAmount = .seconds(2)) { self.linger = linger }

    func handlerRemoved(context: ChannelHandlerContext) { closeTask?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once the answer is sent, the rest of the refused request goes nowhere.
        if closing { return }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.code >= 400, head.headerFields[.connection]?.lowercased() == "close" { closing = true }
            context.write(data, promise: promise)
        case .end where closing:
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let done = context.eventLoop.makePromise(of: Void.self)
            done.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: done)
            done.futureResult.assumeIsolated().whenComplete { _ in
                let ctx = bound.value
                ctx.close(mode: .output, promise: nil)
                self.closeTask = ctx.eventLoop.assumeIsolated().scheduleTask(in: self.linger) { ctx.close(promise: nil) }
            }
        default:
            context.write(data, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeTask?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client closed its side after reading the answer: close now.
        if closing, let e = event as? ChannelEvent, e == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

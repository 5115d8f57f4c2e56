import Monitoring
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Answers every request that was not upgraded: `/health` (liveness), `/ready` (readiness), `/metrics`
/// (Prometheus), `/docs` and `/asyncapi.json` (unless `http.docs` is off), permanent redirects from the
/// old service's documentation paths, and clear errors for everything else (404 for unknown paths, 400/426 for bad
/// handshakes, 503 when no buffer can be had). Each error is counted by its code.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let session: HandshakeSession
    private let gateway: GatewayContext
    private var pendingHead: HTTPRequestHead?

    init(session: HandshakeSession, gateway: GatewayContext) {
        self.session = session
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.pendingHead = head
        case .body:
            break
        case .end:
            guard let head = self.pendingHead else { return }
            self.pendingHead = nil
            self.respond(to: head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused upgrade surfaces here before the request itself arrives; the request gets the answer.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let rejection = self.session.rejection
        self.session.rejection = nil
        switch rejection.map({ .failure($0) }) ?? HandshakeClassifier.classify(head) {
        case .success(.health):
            let body = self.gateway.healthJSON()
            self.write(status: .ok, headers: [], body: body, head: head, keepAlive: head.isKeepAlive, context: context)
        case .success(.ready):
            let readiness = self.gateway.metrics.readiness()
            let body = ByteBuffer(string: readiness.json)
            self.write(
                status: readiness.isReady ? .ok : .serviceUnavailable,
                headers: [],
                body: body,
                head: head,
                keepAlive: head.isKeepAlive,
                context: context
            )
        case .success(.metrics):
            let body = ByteBuffer(bytes: self.gateway.metrics.exposition())
            self.write(
                status: .ok,
                contentType: "text/plain; version=0.0.4; charset=utf-8",
                headers: [],
                body: body,
                head: head,
                keepAlive: head.isKeepAlive,
                context: context
            )
        case .success(.docs):
            self.serve(\.page, head: head, context: context)
        case .success(.asyncAPI):
            self.serve(\.asyncAPI, head: head, context: context)
        case .success(.clientModule):
            self.serve(\.clientModule, head: head, context: context)
        case .success(.movedPermanently(let location)):
            guard self.gateway.docs != nil else {
                return self.write(.notFound(HandshakeClassifier.split(head.uri).path), head: head, context: context)
            }
            var body = ByteBuffer()
            body.writeString("{\"location\":")
            JSONText.writeString(location, into: &body)
            body.writeString("}")
            self.write(
                status: .movedPermanently,
                headers: [("Location", location)],
                body: body,
                head: head,
                keepAlive: head.isKeepAlive,
                context: context
            )
        case .success(.webSocket):
            let rejection = HTTPRejection(
                status: .badRequest,
                code: .badHandshake,
                message: "WebSocket handshake could not be completed"
            )
            self.write(rejection, head: head, context: context)
        case .failure(let rejection):
            self.write(rejection, head: head, context: context)
        }
    }

    /// One of the documentation resources, with its entity tag: a client that has it gets 304.
    private func serve(
        _ document: KeyPath<APIDocsResponses, APIDocsResponses.Document>,
        head: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        guard let docs = self.gateway.docs else {
            return self.write(.notFound(HandshakeClassifier.split(head.uri).path), head: head, context: context)
        }
        let resource = docs[keyPath: document]
        let headers = resource.headers + [("ETag", resource.entityTag)]
        let cached = resource.matches(ifNoneMatch: head.headers["if-none-match"])
        self.write(
            status: cached ? .notModified : .ok,
            contentType: resource.contentType,
            cacheControl: "no-cache",
            headers: headers,
            body: cached ? ByteBuffer() : resource.body,
            head: head,
            keepAlive: head.isKeepAlive,
            context: context
        )
    }

    private func write(_ rejection: HTTPRejection, head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.gateway.connections.rejected(rejection.code)
        var body = ByteBuffer()
        body.writeString("{\"error\":{\"code\":")
        JSONText.writeString(rejection.code.label, into: &body)
        body.writeString(",\"message\":")
        JSONText.writeString(rejection.message, into: &body)
        body.writeString("}}")
        // A refused handshake ends the connection: a WebSocket client would not reuse it anyway.
        self.write(
            status: rejection.status,
            headers: rejection.headers,
            body: body,
            head: head,
            keepAlive: false,
            context: context
        )
    }

    private func write(
        status: HTTPResponseStatus,
        contentType: String = "application/json",
        cacheControl: String = "no-store",
        headers extra: [(String, String)],
        body: ByteBuffer,
        head: HTTPRequestHead,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        if status != .notModified {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        headers.add(name: "Cache-Control", value: cacheControl)
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil
        )
        if head.method != .HEAD && status != .notModified {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

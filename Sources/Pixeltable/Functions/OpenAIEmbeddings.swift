import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `openai.embeddings(input, model=…, dimensions=…)`: vectors from an OpenAI-compatible
/// `/v1/embeddings` endpoint (`pixeltable.functions.openai.embeddings`).
///
/// The base URL and key come from `OPENAI_BASE_URL` and `OPENAI_API_KEY`, else from the config
/// file's `[openai] base_url` and `api_key`; the URL defaults to `https://api.openai.com/v1`. A
/// write sends its rows in batches of ``batchSize`` inputs; 429 and 5xx answers and lost
/// connections are retried with exponential backoff (honouring `Retry-After`), and what still
/// fails becomes a per-cell error. The key is never written into an error.
enum OpenAIEmbeddings {
    static let batchSize = 64
    static let maxAttempts = 5
    static let timeout = TimeAmount.seconds(60)

    static let function: ExpressionFunction = {
        var f = ExpressionFunction(
            "openai.embeddings", [.init("input", .string), .init("model", .string), .init("dimensions", .int, default: .null)],
            returnType: { args in .array([nil], .float32, nullable: true) }, propagatesNull: false, deterministic: true
        ) { _ in
            throw FunctionError("RuntimeError", "openai.embeddings needs a catalog to find its settings")
        }
        f.contextual = { context, a in try embed(context, [a])[0].get() }
        f.batch = { context, calls in embed(context, calls) }
        return f
    }()

    /// Where requests go and with which key.
    struct Endpoint {
        var url: String
        var key: String?

        init(_ context: FunctionContext) {
            let home = context.home ?? HomeDirectory(environment: context.environment)
            var base = ConfigFile.setting("openai", "base_url", home: home, environment: context.environment) ?? "https://api.openai.com/v1"
            while base.hasSuffix("/") { base.removeLast() }
            url = base + "/embeddings"
            key = ConfigFile.setting("openai", "api_key", home: home, environment: context.environment)
        }
    }

    private struct Group: Hashable {
        var model: String
        var dimensions: Int64?
    }

    /// One result per call, in order: calls are grouped by model and dimensions and sent in
    /// batches.
    static func embed(_ context: FunctionContext, _ calls: [[Value]]) -> [Result<Value, FunctionError>] {
        var out = [Result<Value, FunctionError>](repeating: .success(.null), count: calls.count)
        var groups: [Group: [Int]] = [:]
        var order: [Group] = []
        for (i, a) in calls.enumerated() {
            guard case .string = a[0] else { continue }  // a null input has a null vector
            guard case .string(let model) = a[1] else {
                out[i] = .failure(FunctionError("TypeError", "openai.embeddings() needs a model"))
                continue
            }
            var dims: Int64? = nil
            if a.count > 2, case .int(let d) = a[2] { dims = d }
            let g = Group(model: model, dimensions: dims)
            if groups[g] == nil { order.append(g) }
            groups[g, default: []].append(i)
        }
        if order.isEmpty { return out }
        let endpoint = Endpoint(context)
        for g in order {
            let members = groups[g]!
            var lo = 0
            while lo < members.count {
                let batch = Array(members[lo..<min(members.count, lo + batchSize)])
                let texts = batch.map { BuiltinFunctions.str(calls[$0][0]) }
                switch request(endpoint, model: g.model, dimensions: g.dimensions, inputs: texts) {
                case .success(let vectors):
                    for (i, v) in zip(batch, vectors) { out[i] = .success(.array(NDArray(v))) }
                case .failure(let e):
                    for i in batch { out[i] = .failure(e) }
                }
                lo += batchSize
            }
        }
        return out
    }

    /// One request, retried while the answer says to try again.
    static func request(_ endpoint: Endpoint, model: String, dimensions: Int64?, inputs: [String]) -> Result<[[Float]], FunctionError> {
        var body = JSONObject()
        body["model"] = .string(model)
        body["input"] = .array(inputs.map { .string($0) })
        body["encoding_format"] = "float"
        if let dimensions { body["dimensions"] = .int(dimensions) }
        let payload = Array(JSONWriter.compact.string(.object(body)).utf8)
        var delay = 0.5
        var last = FunctionError("OpenAIError", "no attempt was made")
        for attempt in 1...maxAttempts {
            let (status, headers, bytes, transportError) = send(endpoint, payload)
            if let transportError {
                last = FunctionError("APIConnectionError", "openai.embeddings: \(endpoint.url): \(transportError)")
            } else if status == 200 {
                return decode(bytes, count: inputs.count, url: endpoint.url)
            } else {
                let message = (try? JSONParser.parse(bytes: bytes))?["error"]?["message"]?.stringValue ?? HTTPResponseStatus(statusCode: status).reasonPhrase
                last = FunctionError(status == 429 ? "RateLimitError" : "APIStatusError", "openai.embeddings: HTTP \(status) from \(endpoint.url): \(message)")
                guard status == 429 || status >= 500 else { return .failure(last) }
                if let after = headers["retry-after"].first.flatMap(Double.init) { delay = min(30, max(delay, after)) }
            }
            if attempt < maxAttempts {
                Thread.sleep(forTimeInterval: delay)
                delay = min(30, delay * 2)
            }
        }
        return .failure(last)
    }

    /// Sends the request and waits for the whole answer (callers are not on an event loop).
    private static func send(_ endpoint: Endpoint, _ payload: [UInt8]) -> (Int, HTTPHeaders, [UInt8], String?) {
        do {
            var headers: HTTPHeaders = ["Content-Type": "application/json", "User-Agent": "pxt"]
            if let key = endpoint.key { headers.add(name: "Authorization", value: "Bearer " + key) }
            let request = try HTTPClient.Request(url: endpoint.url, method: .POST, headers: headers, body: .bytes(payload))
            let response = try HTTPClient.shared.execute(request: request, deadline: .now() + timeout).wait()
            var body = response.body ?? ByteBuffer()
            return (Int(response.status.code), response.headers, body.readBytes(length: body.readableBytes) ?? [], nil)
        } catch {
            return (0, [:], [], "\(error)")
        }
    }

    /// The vectors of an answer, by their `index`.
    static func decode(_ bytes: [UInt8], count: Int, url: String) -> Result<[[Float]], FunctionError> {
        guard let json = try? JSONParser.parse(bytes: bytes), let data = json["data"]?.arrayValue else {
            return .failure(FunctionError("APIResponseError", "openai.embeddings: \(url) answered without a data list"))
        }
        var out = [[Float]?](repeating: nil, count: count)
        for (k, item) in data.enumerated() {
            let i = item["index"]?.intValue.map(Int.init) ?? k
            guard i >= 0, i < count, let e = item["embedding"]?.arrayValue else { continue }
            out[i] = e.compactMap { $0.doubleValue.map(Float.init) }
        }
        guard out.allSatisfy({ $0 != nil }) else {
            return .failure(FunctionError("APIResponseError", "openai.embeddings: \(url) answered \(data.count) embeddings for \(count) inputs"))
        }
        return .success(out.map { $0! })
    }
}

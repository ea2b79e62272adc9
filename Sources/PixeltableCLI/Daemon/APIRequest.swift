import Pixeltable

/// A daemon request, independent of the HTTP server that received it.
struct APIRequest: Sendable {
    var method: String
    var path: String
    /// Query-string parameters; repeated names keep every value.
    var query: [String: [String]]
    var body: [UInt8]
    /// The caller's terminal session (`X-Pxt-Session`), for the working directory.
    var session: String?
    /// The caller's settings fingerprint (`X-Pxt-Env`), checked by ``EnvironmentAgreement``.
    var environment: String? = nil

    /// A query parameter's last value.
    func param(_ name: String) -> String? { query[name]?.last }

    /// A boolean query parameter: `1/true/yes/on` or `0/false/no/off`.
    func bool(_ name: String) throws(APIError) -> Bool {
        guard let v = param(name) else { return false }
        switch v.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw APIError(422, "'\(name)' must be a boolean; got '\(v)'")
        }
    }

    /// An integer query parameter within bounds.
    func int(_ name: String, default d: Int? = nil, min lo: Int? = nil, max hi: Int? = nil) throws(APIError) -> Int? {
        guard let v = param(name) else { return d }
        guard let i = Int(v) else { throw APIError(422, "'\(name)' must be an integer; got '\(v)'") }
        if let lo, i < lo { throw APIError(422, "'\(name)' must be >= \(lo); got \(i)") }
        if let hi, i > hi { throw APIError(422, "'\(name)' must be <= \(hi); got \(i)") }
        return i
    }

    /// The JSON body as an object.
    func jsonBody() throws(APIError) -> JSONObject {
        guard !body.isEmpty else { throw APIError(422, "request body required", code: "MISSING_REQUIRED") }
        do {
            guard case .object(let o) = try JSONParser.parse(bytes: body) else { throw APIError(422, "request body must be a JSON object") }
            return o
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(422, "request body is not valid JSON: \(error)")
        }
    }
}

/// An error answer: an HTTP status and a `detail`.
struct APIError: Error, Sendable {
    var status: Int
    var detail: String
    var code: String?

    init(_ status: Int, _ detail: String, code: String? = nil) {
        self.status = status
        self.detail = detail
        self.code = code
    }

    init(_ e: PixeltableError) {
        status = e.httpStatus
        detail = e.message
        code = e.code.name
    }

    var json: JSONValue {
        var o = JSONObject()
        o["detail"] = .string(detail)
        if let code { o["error_code"] = .string(code) }
        return .object(o)
    }
}

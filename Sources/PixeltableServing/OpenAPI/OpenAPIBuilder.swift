import Pixeltable

/// Builds the OpenAPI 3.1 document of a router from its routes' column and parameter types,
/// with FastAPI's component names (`Body_{operation}`, `{PathStr}Response`, …).
enum OpenAPIBuilder {
    /// Pydantic's default field title: `query_text` → `Query Text`.
    static func title(_ name: String) -> String {
        name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    static func mediaType(_ k: ColumnType.Kind) -> String {
        switch k {
        case .image: return "image/*"
        case .video: return "video/*"
        case .audio: return "audio/*"
        default: return "application/octet-stream"
        }
    }

    /// The JSON schema of values of a type (without nullability).
    static func baseSchema(_ t: ColumnType, output: Bool) -> JSONObject {
        switch t.kind {
        case .string: return ["type": "string"]
        // Inputs declare the 64-bit range: a larger integer is refused (422 int_range).
        case .int: return output ? ["type": "integer"] : ["type": "integer", "minimum": .int(Int64.min), "maximum": .int(Int64.max)]
        case .float: return ["type": "number"]
        case .bool: return ["type": "boolean"]
        case .timestamp: return ["type": "string", "format": "date-time"]
        case .date: return ["type": "string", "format": "date"]
        case .uuid: return ["type": "string", "format": "uuid"]
        case .json: return [:]
        case .array: return ["type": "array", "items": [:]]
        case .binary: return ["type": "string", "format": "binary"]
        case .image, .video, .audio, .document:
            if output { return ["type": "string", "format": "uri", "contentMediaType": .string(mediaType(t.kind))] }
            return ["type": "string"]
        }
    }

    /// A property's schema: nullable types as `anyOf [T, null]` with `default: null`.
    static func property(_ name: String, _ t: ColumnType, comment: String?, output: Bool, defaultValue: Value? = nil, optional: Bool = false) -> JSONValue {
        var s: JSONObject
        let base = baseSchema(t, output: output)
        if t.nullable && t.kind != .json {
            s = ["anyOf": [.object(base), ["type": "null"]]]
        } else {
            s = base
        }
        s["title"] = .string(title(name))
        if let comment, !comment.isEmpty { s["description"] = .string(comment) }
        if let d = defaultValue {
            s["default"] = d.json
        } else if t.nullable && (output || optional) {
            s["default"] = .null
        }
        return .object(s)
    }

    static func objectSchema(_ name: String, _ props: [(String, JSONValue, Bool)]) -> JSONValue {
        var o: JSONObject = [:]
        var properties = JSONObject()
        for (k, v, _) in props { properties[k] = v }
        o["properties"] = .object(properties)
        o["type"] = "object"
        let required = props.filter(\.2).map { JSONValue.string($0.0) }
        if !required.isEmpty { o["required"] = .array(required) }
        o["title"] = .string(name)
        return .object(o)
    }

    /// A schema inferred from an example JSON value.
    static func inferSchema(_ v: JSONValue, title: String? = nil) -> JSONValue {
        var o: JSONObject
        switch v {
        case .null: o = ["type": "null"]
        case .bool: o = ["type": "boolean"]
        case .int: o = ["type": "integer"]
        case .double: o = ["type": "number"]
        case .string: o = ["type": "string"]
        case .array(let items): o = ["type": "array", "items": items.first.map { inferSchema($0) } ?? [:]]
        case .object(let obj):
            var props = JSONObject()
            for (k, x) in obj {
                var p = inferSchema(x).objectValue ?? JSONObject()
                p["title"] = .string(Self.title(k))
                props[k] = .object(p)
            }
            o = ["properties": .object(props), "type": "object"]
            let required = obj.pairs.filter { !$0.value.isNull }.map { JSONValue.string($0.key) }
            if !required.isEmpty { o["required"] = .array(required) }
        }
        if let title { o["title"] = .string(title) }
        return .object(o)
    }

    /// An input's schema; a query's limit parameter declares that it cannot be negative.
    static func inputProperty(_ spec: RouteSpec, _ name: String, _ t: ColumnType, comment: String?, defaultValue: Value?, optional: Bool) -> JSONValue {
        let p = property(name, t, comment: comment, output: false, defaultValue: defaultValue, optional: optional)
        guard case .query(let q) = spec.kind, case .parameter(let limit) = q.definition.limit, limit == name, case .object(var o) = p else { return p }
        if o["type"] == "integer" {
            o["minimum"] = 0
        } else if case .array(var options)? = o["anyOf"], let i = options.firstIndex(where: { $0["type"] == "integer" }), case .object(var int) = options[i] {
            int["minimum"] = 0
            options[i] = .object(int)
            o["anyOf"] = .array(options)
        }
        return .object(o)
    }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static func jsonContent(_ schema: JSONValue) -> JSONValue { ["application/json": ["schema": schema]] }

    /// 422: a request that fails validation (FastAPI's shape), or a value the table refuses
    /// (an engine error).
    static let validationResponse: JSONValue = [
        "description": "Validation Error", "content": jsonContent(["anyOf": [ref("HTTPValidationError"), ref("ErrorResponse")]]),
    ]

    /// `{"detail": …}` answers with `status`.
    static func errorResponse(_ description: String) -> JSONValue { ["description": .string(description), "content": jsonContent(ref("ErrorResponse"))] }

    /// The error statuses a route can answer besides 422, declared so that the document is a
    /// complete description (schemathesis checks every status against it).
    static func errorResponses(_ spec: RouteSpec) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [
            ("400", errorResponse("Bad request (e.g. a malformed multipart body)")),
            ("404", errorResponse(spec.kind.name == "update" ? "No row has this primary key" : spec.oneRow ? "The query returned no rows" : "Not found")),
            ("409", errorResponse("Conflict: a duplicate primary key, several rows for one_row, or the table's schema changed since the route was registered")),
            ("503", errorResponse("The database is busy; retry")),
        ]
        if spec.method == .post {
            out.append(("413", errorResponse("Request body too large")))
            out.append(("415", errorResponse(spec.isMultipart ? "The body is not multipart/form-data" : "The body is not application/json")))
        }
        return out
    }

    static func standardComponents() -> JSONObject {
        [
            "HTTPValidationError": [
                "properties": ["detail": ["items": ref("ValidationError"), "type": "array", "title": "Detail"]], "type": "object",
                "title": "HTTPValidationError",
            ],
            "ValidationError": [
                "properties": [
                    "loc": ["items": ["anyOf": [["type": "string"], ["type": "integer"]]], "type": "array", "title": "Location"],
                    "msg": ["type": "string", "title": "Message"], "type": ["type": "string", "title": "Error Type"],
                ],
                "type": "object", "required": ["loc", "msg", "type"], "title": "ValidationError",
            ],
            "BackgroundJobResponse": [
                "properties": ["id": ["type": "string", "title": "Id"], "job_url": ["type": "string", "title": "Job Url"]], "type": "object",
                "required": ["id", "job_url"], "title": "BackgroundJobResponse",
            ],
            "ErrorResponse": [
                "properties": ["detail": ["anyOf": [["type": "string"], ref("ErrorDetail")], "title": "Detail"]], "type": "object", "required": ["detail"],
                "title": "ErrorResponse",
            ],
            "ErrorDetail": [
                "properties": [
                    "error_code": ["type": "string", "title": "Error Code"], "message": ["type": "string", "title": "Message"],
                    "retryable": ["type": "boolean", "title": "Retryable"],
                ],
                "type": "object", "required": ["error_code", "message", "retryable"], "title": "ErrorDetail",
            ],
            "JobStatusResponse": [
                "properties": [
                    "status": ["type": "string", "enum": ["pending", "done", "error"], "title": "Status"],
                    "error": ["anyOf": [["type": "string"], ["type": "null"]], "title": "Error", "default": .null],
                    "result": ["title": "Result", "default": .null],
                ],
                "type": "object", "required": ["status"], "title": "JobStatusResponse",
            ],
        ]
    }

    /// - Parameter auth: When set, the document declares the credentials (`securitySchemes`),
    ///   requires them on every operation not under a public path, and lists the 401 (and, with
    ///   route-scoped keys, 403) answers.
    static func document(_ routes: [RouteSpec], title docTitle: String, prefix: String, auth: ServiceAuth? = nil) -> JSONValue {
        var paths = JSONObject()
        var components = standardComponents()
        for spec in routes {
            let method = spec.method.rawValue
            let opID = (spec.endpointName + spec.path).map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }.map(String.init).joined() + "_" + method
            var op: JSONObject = ["summary": .string(title(spec.endpointName)), "operationId": .string(opID)]
            // Request.
            if spec.method == .get {
                op["parameters"] = .array(
                    spec.inputs.map { i in
                        var p: JSONObject = ["name": .string(i.name), "in": "query", "required": .bool(i.required)]
                        p["schema"] = inputProperty(spec, i.name, i.type, comment: nil, defaultValue: i.defaultValue, optional: !i.required)
                        if let c = i.comment { p["description"] = .string(c) }
                        return .object(p)
                    })
            } else if !spec.inputs.isEmpty {
                let bodyName = "Body_\(opID)"
                components[bodyName] = objectSchema(
                    bodyName,
                    spec.inputs.map { i in
                        if spec.uploads.contains(i.name) {
                            // A file part: FastAPI's UploadFile.
                            var p: JSONObject = ["type": "string", "format": "binary", "title": .string(title(i.name))]
                            if let c = i.comment, !c.isEmpty { p["description"] = .string(c) }
                            return (i.name, .object(p), true)
                        }
                        return (i.name, inputProperty(spec, i.name, i.type, comment: i.comment, defaultValue: i.defaultValue, optional: !i.required), i.required)
                    })
                let content: JSONValue = spec.isMultipart ? ["multipart/form-data": ["schema": ref(bodyName)]] : jsonContent(ref(bodyName))
                op["requestBody"] = ["content": content, "required": .bool(spec.inputs.contains { $0.required })]
            }
            // Response.
            let responseSchema: JSONValue
            if spec.background {
                responseSchema = ref("BackgroundJobResponse")
            } else if let custom = spec.transformSchema {
                let name = custom["title"]?.stringValue ?? "\(spec.pathStr)Response"
                components[name] = custom
                responseSchema = ref(name)
            } else {
                switch spec.kind {
                case .delete:
                    components["DeleteResponse"] = objectSchema("DeleteResponse", [("num_rows", ["type": "integer", "title": "Num Rows"], true)])
                    responseSchema = ref("DeleteResponse")
                case .query:
                    let rowName = "\(spec.pathStr)RowResponse"
                    let rowProps = spec.outputs.map { o in (o.name, property(o.name, o.type, comment: o.comment, output: true), !o.type.nullable) }
                    if spec.returnScalar {
                        let item = rowProps.first?.1 ?? [:]
                        responseSchema = spec.oneRow ? item : ["type": "array", "items": item, "title": .string("\(spec.pathStr)Response")]
                    } else {
                        components[rowName] = objectSchema(rowName, rowProps)
                        if spec.oneRow {
                            responseSchema = ref(rowName)
                        } else {
                            let wrapper = "\(spec.pathStr)Response"
                            components[wrapper] = objectSchema(wrapper, [("rows", ["items": ref(rowName), "type": "array", "title": "Rows", "description": "Query result rows"], true)])
                            responseSchema = ref(wrapper)
                        }
                    }
                default:
                    let name = "\(spec.pathStr)Response"
                    components[name] = objectSchema(name, spec.outputs.map { o in (o.name, property(o.name, o.type, comment: o.comment, output: true), !o.type.nullable) })
                    responseSchema = ref(name)
                }
            }
            if spec.returnFileResponse, let media = spec.outputs.first {
                // The raw file, with the media's content type.
                op["responses"] = [
                    "200": ["description": "Successful Response", "content": [.init(mediaType(media.type.kind)): ["schema": ["type": "string", "format": "binary"]]]],
                    "422": validationResponse,
                ]
            } else {
                op["responses"] = ["200": ["description": "Successful Response", "content": jsonContent(responseSchema)], "422": validationResponse]
            }
            if var responses = op["responses"]?.objectValue {
                for (status, r) in errorResponses(spec) { responses[status] = r }
                op["responses"] = .object(responses)
            }
            if let auth { op = secured(op, path: prefix + spec.path, auth: auth, prefix: prefix) }
            var item = paths[prefix + spec.path]?.objectValue ?? JSONObject()
            item[method] = .object(op)
            paths[prefix + spec.path] = .object(item)
        }
        var jobs: JSONObject = [
            "summary": "Job status", "operationId": "pxt_serve_job_status",
            "parameters": [["name": "job_id", "in": "path", "required": true, "schema": ["type": "string", "title": "Job Id"]]],
            "responses": [
                "200": ["description": "Successful Response", "content": jsonContent(ref("JobStatusResponse"))], "404": errorResponse("Unknown job id"),
                "422": validationResponse,
            ],
        ]
        var mediaParameters: [JSONValue] = [["name": "path", "in": "path", "required": true, "schema": ["type": "string", "title": "Path"]]]
        if auth != nil {
            // A signed URL from a response loads without credentials.
            mediaParameters.append(["name": "exp", "in": "query", "required": false, "schema": ["type": "integer", "title": "Exp"], "description": "Expiry of a signed URL (Unix seconds)"])
            mediaParameters.append(["name": "sig", "in": "query", "required": false, "schema": ["type": "string", "title": "Sig"], "description": "Signature of a signed URL"])
        }
        var media: JSONObject = [
            "summary": "Media file", "operationId": "pxt_serve_media", "parameters": .array(mediaParameters),
            "responses": [
                "200": ["description": "Successful Response"], "206": ["description": "Partial Content (a Range request)"],
                "304": ["description": "Not Modified"], "404": errorResponse("Not found"), "416": ["description": "Range Not Satisfiable"],
                "422": validationResponse,
            ],
        ]
        if let auth {
            jobs = secured(jobs, path: prefix + "/jobs/{job_id}", auth: auth, prefix: prefix)
            media = secured(media, path: prefix + "/media/{path}", auth: auth, prefix: prefix)
        }
        paths[prefix + "/jobs/{job_id}"] = ["get": .object(jobs)]
        paths[prefix + "/media/{path}"] = ["get": .object(media)]
        var componentsObject: JSONObject = ["schemas": .object(JSONObject(components.pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))]
        var document: JSONObject = ["openapi": "3.1.0", "info": ["title": .string(docTitle), "version": .string("0.1.0")], "paths": .object(paths)]
        if let auth {
            var schemes: JSONObject = ["HTTPBearer": .object(auth.jwt != nil ? ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"] : ["type": "http", "scheme": "bearer"])]
            if !auth.apiKeys.isEmpty { schemes["APIKeyHeader"] = ["type": "apiKey", "in": "header", "name": "X-API-Key"] }
            componentsObject["securitySchemes"] = .object(schemes)
            document["security"] = .array(securityRequirements(auth))
        }
        document["components"] = .object(componentsObject)
        return .object(document)
    }

    /// `[{"HTTPBearer": []}, {"APIKeyHeader": []}]`: either credential will do.
    static func securityRequirements(_ auth: ServiceAuth) -> [JSONValue] {
        var out: [JSONValue] = [["HTTPBearer": []]]
        if !auth.apiKeys.isEmpty { out.append(["APIKeyHeader": []]) }
        return out
    }

    /// An operation with its credentials declared: none for a public path, else the 401 (and
    /// the 403 of route-scoped keys) it can answer.
    static func secured(_ op: JSONObject, path: String, auth: ServiceAuth, prefix: String) -> JSONObject {
        var op = op
        if auth.isPublic(Substring(path), prefix: prefix) {
            op["security"] = []
            return op
        }
        var responses = op["responses"]?.objectValue ?? JSONObject()
        responses["401"] = errorResponse("Missing or invalid credentials")
        if auth.apiKeys.contains(where: { $0.routes != nil }) {
            responses["403"] = errorResponse("The API key may not call this route")
        }
        op["responses"] = .object(responses)
        return op
    }
}

extension ServiceRouter {
    /// The OpenAPI 3.1 document of the registered routes, served at `/openapi.json`.
    public var openAPIDocument: JSONValue {
        OpenAPIBuilder.document(allRoutes, title: configuration.title, prefix: prefix, auth: configuration.auth)
    }
}

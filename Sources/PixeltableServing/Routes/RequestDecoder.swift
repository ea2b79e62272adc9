import Pixeltable

/// Request fields that failed validation: FastAPI's 422 body,
/// `{"detail": [{"type", "loc", "msg", "input"}]}`.
struct ValidationFailure: Error, Sendable {
    var errors: [JSONValue]

    var body: JSONValue { ["detail": .array(errors)] }

    static func single(type: String, loc: [JSONValue], msg: String, input: JSONValue, ctx: JSONValue? = nil) -> ValidationFailure {
        var o: JSONObject = ["type": .string(type), "loc": .array(loc), "msg": .string(msg), "input": input]
        if let ctx { o["ctx"] = ctx }
        return ValidationFailure(errors: [.object(o)])
    }
}

/// Turns request bodies and query strings into typed values, by column or parameter type,
/// with pydantic's lax rules and error shapes.
enum RequestDecoder {
    /// Decodes a JSON body (an object whose keys are the input names).
    ///
    /// - Parameter maxDepth: The deepest nesting of arrays and objects accepted.
    static func decodeJSON(
        _ body: [UInt8], inputs: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)], maxDepth: Int = 512
    ) throws(ValidationFailure) -> [String: Value] {
        let object: JSONObject
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            object = JSONObject()
        } else {
            do {
                guard case .object(let o) = try JSONParser.parse(bytes: body, maxDepth: maxDepth) else {
                    throw ValidationFailure.single(
                        type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from",
                        input: (try? JSONParser.parse(bytes: body)) ?? .null)
                }
                object = o
            } catch let f as ValidationFailure {
                throw f
            } catch let e as JSONParser.Failure where e.invalidUTF8 && !e.path.isEmpty {
                // pydantic's type for bytes that are not a string; the field is named.
                throw ValidationFailure.single(
                    type: "string_unicode", loc: [JSONValue.string("body")] + e.path.map { JSONValue.string($0) },
                    msg: "Input should be a valid string, unable to parse raw data as a unicode string", input: .null)
            } catch let e as JSONParser.Failure {
                throw ValidationFailure.single(type: "json_invalid", loc: ["body", .int(Int64(e.offset))], msg: "JSON decode error", input: [:], ctx: ["error": .string(e.message)])
            } catch {
                throw ValidationFailure.single(type: "json_invalid", loc: ["body"], msg: "JSON decode error", input: [:])
            }
        }
        var values: [String: JSONValue] = [:]
        for (k, v) in object { values[k] = v }
        return try decode(values, inputs: inputs, location: "body")
    }

    /// Decodes query-string parameters (all strings, converted laxly).
    static func decodeQuery(_ query: [String: [String]], inputs: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)]) throws(ValidationFailure) -> [String: Value] {
        var values: [String: JSONValue] = [:]
        for (k, v) in query {
            guard let last = v.last else { continue }
            values[k] = .string(last)
        }
        return try decode(values, inputs: inputs, location: "query")
    }

    /// Decodes a `multipart/form-data` request: file parts become references to their
    /// temporary files, other fields are text converted by type (`"640"` into an Int is 640).
    static func decodeForm(_ form: MultipartForm, inputs: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)], uploads: [String]) throws(ValidationFailure) -> [String: Value] {
        var values: [String: JSONValue] = [:]
        for (k, v) in form.fields where !uploads.contains(k) { values[k] = .string(v) }
        var errors: [JSONValue] = []
        var out: [String: Value] = [:]
        for u in uploads {
            if let f = form.files[u] {
                out[u] = .media(MediaReference.file(f.path).url)
            } else {
                errors.append(["type": "missing", "loc": ["body", .string(u)], "msg": "Field required", "input": .null])
            }
        }
        do {
            let decoded = try decode(values, inputs: inputs.filter { !uploads.contains($0.name) }, location: "body", textual: true)
            out.merge(decoded) { a, _ in a }
        } catch {
            errors = error.errors + errors
        }
        if !errors.isEmpty { throw ValidationFailure(errors: errors) }
        return out
    }

    static func decode(
        _ values: [String: JSONValue], inputs: [(name: String, type: ColumnType, comment: String?, defaultValue: Value?, required: Bool)], location: String,
        textual: Bool = false
    ) throws(ValidationFailure) -> [String: Value] {
        var out: [String: Value] = [:]
        var errors: [JSONValue] = []
        for input in inputs {
            guard let raw = values[input.name] else {
                if input.required {
                    errors.append(["type": "missing", "loc": [.string(location), .string(input.name)], "msg": "Field required", "input": .null])
                } else {
                    out[input.name] = input.defaultValue ?? .null
                }
                continue
            }
            if raw.isNull && !input.required && input.type.nullable {
                out[input.name] = .null
                continue
            }
            if let bad = numberOutOfRange(raw, input.type, loc: [.string(location), .string(input.name)]) {
                errors.append(bad)
                continue
            }
            // Query strings carry text; numbers and booleans are read from it.
            var v = Value(json: raw)
            if location == "query" || textual, case .string(let s) = raw, input.type.kind == .json, let parsed = try? JSONParser.parse(s) { v = .json(parsed) }
            switch input.type.required.coerce(v, lax: true) {
            case .success(let cv): out[input.name] = cv
            case .failure: errors.append(error(for: input.type, raw: raw, loc: [.string(location), .string(input.name)]))
            }
        }
        if !errors.isEmpty { throw ValidationFailure(errors: errors) }
        return out
    }

    /// A number no column can store: `1e400`, `Infinity` or `NaN` for a number column (which
    /// would be stored as null), or an integer beyond 64 bits for an Int column (which JSON
    /// reading turned into an inexact float).
    static func numberOutOfRange(_ raw: JSONValue, _ type: ColumnType, loc: [JSONValue]) -> JSONValue? {
        guard case .double(let d) = raw, type.kind == .float || type.kind == .int else { return nil }
        // Only a refused number is formatted: every Float field of every request passes here.
        if !d.isFinite {
            let shown = d.isNaN ? "NaN" : d < 0 ? "-Infinity" : "Infinity"
            return ["type": "finite_number", "loc": .array(loc), "msg": "Input should be a finite number", "input": .string(shown)]
        }
        if type.kind == .int, d == d.rounded(), abs(d) >= 9_223_372_036_854_775_808.0 {
            return [
                "type": "int_range", "loc": .array(loc),
                "msg": "Input should be an integer from -9223372036854775808 to 9223372036854775807 (a 64-bit integer)", "input": .string("\(d)"),
            ]
        }
        return nil
    }

    /// Pydantic's error entry for a value that does not fit a type.
    static func error(for type: ColumnType, raw: JSONValue, loc: [JSONValue]) -> JSONValue {
        let isString: Bool = { if case .string = raw { return true } else { return false } }()
        let (kind, msg): (String, String)
        switch type.kind {
        case .int:
            if case .double = raw {
                (kind, msg) = ("int_from_float", "Input should be a valid integer, got a number with a fractional part")
            } else if isString {
                (kind, msg) = ("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
            } else {
                (kind, msg) = ("int_type", "Input should be a valid integer")
            }
        case .float:
            (kind, msg) = isString ? ("float_parsing", "Input should be a valid number, unable to parse string as a number") : ("float_type", "Input should be a valid number")
        case .bool:
            (kind, msg) = isString ? ("bool_parsing", "Input should be a valid boolean, unable to interpret input") : ("bool_type", "Input should be a valid boolean")
        case .string, .image, .video, .audio, .document:
            (kind, msg) = ("string_type", "Input should be a valid string")
        case .timestamp:
            (kind, msg) = isString ? ("datetime_from_date_parsing", "Input should be a valid datetime or date, invalid character in year") : ("datetime_type", "Input should be a valid datetime")
        case .date:
            (kind, msg) = isString ? ("date_from_datetime_parsing", "Input should be a valid date or datetime, invalid character in year") : ("date_type", "Input should be a valid date")
        case .uuid:
            (kind, msg) = isString ? ("uuid_parsing", "Input should be a valid UUID, invalid character") : ("uuid_type", "UUID input should be a string, bytes or UUID object")
        case .array:
            (kind, msg) = ("list_type", "Input should be a valid list")
        case .binary:
            (kind, msg) = ("bytes_type", "Input should be a valid bytes")
        case .json:
            (kind, msg) = ("value_error", "Input should be valid JSON")
        }
        return ["type": .string(kind), "loc": .array(loc), "msg": .string(msg), "input": raw]
    }
}

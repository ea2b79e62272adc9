/// The one error type of the engine: a Pixeltable error code, a message, and where it happened.
///
/// Codes, HTTP statuses and retryability follow Pixeltable's `exceptions.py`, so a client sees
/// the same `error_code` and status from us as from Pixeltable.
public struct PixeltableError: Error, Sendable, CustomStringConvertible {
    /// A Pixeltable error code with the HTTP status and retryability it implies.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, e.g. `PATH_NOT_FOUND`.
        public let name: String
        /// Pixeltable's numeric value of the code.
        public let number: Int
        /// The HTTP status a request failing with this code answers.
        public let httpStatus: Int
        /// Whether retrying the same request may succeed.
        public let isRetryable: Bool

        init(_ name: String, _ number: Int, _ httpStatus: Int, retryable: Bool = false) {
            self.name = name
            self.number = number
            self.httpStatus = httpStatus
            self.isRetryable = retryable
        }

        public var description: String { name }

        public static func == (a: Code, b: Code) -> Bool { a.name == b.name }
        public func hash(into h: inout Hasher) { h.combine(name) }

        public static let internalError = Code("INTERNAL_ERROR", 0, 500)
        public static let genericUserError = Code("GENERIC_USER_ERROR", 1, 400)

        public static let columnNotFound = Code("COLUMN_NOT_FOUND", 1000, 404)
        public static let pathNotFound = Code("PATH_NOT_FOUND", 1001, 404)
        public static let tableNotFound = Code("TABLE_NOT_FOUND", 1002, 404)
        public static let directoryNotFound = Code("DIRECTORY_NOT_FOUND", 1003, 404)
        public static let indexNotFound = Code("INDEX_NOT_FOUND", 1004, 404)
        public static let functionNotFound = Code("FUNCTION_NOT_FOUND", 1005, 404)
        public static let rowNotFound = Code("ROW_NOT_FOUND", 1006, 404)
        public static let storageNotFound = Code("STORAGE_NOT_FOUND", 1007, 404)
        public static let serviceNotFound = Code("SERVICE_NOT_FOUND", 1008, 404)
        public static let deploymentNotFound = Code("DEPLOYMENT_NOT_FOUND", 1009, 404)

        public static let columnAlreadyExists = Code("COLUMN_ALREADY_EXISTS", 2000, 409)
        public static let pathAlreadyExists = Code("PATH_ALREADY_EXISTS", 2001, 409)
        public static let indexAlreadyExists = Code("INDEX_ALREADY_EXISTS", 2002, 409)
        public static let functionAlreadyExists = Code("FUNCTION_ALREADY_EXISTS", 2003, 409)

        public static let invalidColumnName = Code("INVALID_COLUMN_NAME", 3000, 422)
        public static let invalidPath = Code("INVALID_PATH", 3001, 422)
        public static let invalidExpression = Code("INVALID_EXPRESSION", 3002, 422)
        public static let invalidType = Code("INVALID_TYPE", 3003, 422)
        public static let invalidSchema = Code("INVALID_SCHEMA", 3004, 422)
        public static let invalidArgument = Code("INVALID_ARGUMENT", 3005, 422)
        public static let invalidDataFormat = Code("INVALID_DATA_FORMAT", 3006, 422)
        public static let missingRequired = Code("MISSING_REQUIRED", 3007, 422)
        public static let typeMismatch = Code("TYPE_MISMATCH", 3008, 422)
        public static let constraintViolation = Code("CONSTRAINT_VIOLATION", 3009, 422)
        public static let invalidConfiguration = Code("INVALID_CONFIGURATION", 3010, 422)
        public static let unsupportedOperation = Code("UNSUPPORTED_OPERATION", 3011, 400)
        public static let invalidState = Code("INVALID_STATE", 3013, 400)
        public static let fileCacheFull = Code("FILE_CACHE_FULL", 3014, 507)
        public static let schemaMismatch = Code("SCHEMA_MISMATCH", 3015, 422)
        public static let destructiveSchemaChange = Code("DESTRUCTIVE_SCHEMA_CHANGE", 3016, 422)
        public static let notBound = Code("NOT_BOUND", 3017, 400)
        public static let alreadyBound = Code("ALREADY_BOUND", 3018, 400)

        public static let insufficientPrivileges = Code("INSUFFICIENT_PRIVILEGES", 4000, 403)
        public static let missingCredentials = Code("MISSING_CREDENTIALS", 4001, 403)

        public static let providerError = Code("PROVIDER_ERROR", 5000, 502, retryable: true)
        public static let rateLimited = Code("RATE_LIMITED", 5001, 429, retryable: true)
        public static let providerAuthError = Code("PROVIDER_AUTH_ERROR", 5002, 401)
        public static let providerBadRequest = Code("PROVIDER_BAD_REQUEST", 5003, 400)
        public static let providerTimeout = Code("PROVIDER_TIMEOUT", 5004, 504, retryable: true)
        public static let providerOverloaded = Code("PROVIDER_OVERLOADED", 5005, 503, retryable: true)

        public static let databaseUnavailable = Code("DATABASE_UNAVAILABLE", 6000, 503, retryable: true)
        public static let storeUnavailable = Code("STORE_UNAVAILABLE", 6001, 503, retryable: true)

        public static let serializationFailure = Code("SERIALIZATION_FAILURE", 7000, 409, retryable: true)
        public static let concurrentModification = Code("CONCURRENT_MODIFICATION", 7001, 409, retryable: true)

        /// Every code, for lookups by name.
        public static let all: [Code] = [
            internalError, genericUserError, columnNotFound, pathNotFound, tableNotFound, directoryNotFound,
            indexNotFound, functionNotFound, rowNotFound, storageNotFound, serviceNotFound, deploymentNotFound,
            columnAlreadyExists, pathAlreadyExists, indexAlreadyExists, functionAlreadyExists, invalidColumnName,
            invalidPath, invalidExpression, invalidType, invalidSchema, invalidArgument, invalidDataFormat,
            missingRequired, typeMismatch, constraintViolation, invalidConfiguration, unsupportedOperation,
            invalidState, fileCacheFull, schemaMismatch, destructiveSchemaChange, notBound, alreadyBound,
            insufficientPrivileges, missingCredentials, providerError, rateLimited, providerAuthError,
            providerBadRequest, providerTimeout, providerOverloaded, databaseUnavailable, storeUnavailable,
            serializationFailure, concurrentModification,
        ]

        /// The code with the given name, if there is one.
        public static func named(_ name: String) -> Code? { all.first { $0.name == name } }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The message shown to users.
    public var message: String
    /// The message of an underlying Pixeltable error, if any.
    public var cause: String?

    /// A new error.
    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The HTTP status this error implies.
    public var httpStatus: Int { code.httpStatus }

    public var description: String { message }

    /// Pixeltable's `Error.to_dict()`: `{"error_code", "message", "retryable"[, "cause"]}`.
    public var dictionary: JSONValue {
        var o = JSONObject()
        o["error_code"] = .string(code.name)
        o["message"] = .string(message)
        o["retryable"] = .bool(code.isRetryable)
        if let cause { o["cause"] = .string(cause) }
        return .object(o)
    }
}

extension PixeltableError {
    static func notFound(_ code: Code = .pathNotFound, _ message: String) -> PixeltableError {
        PixeltableError(code, message)
    }

    static func invalid(_ message: String) -> PixeltableError {
        PixeltableError(.invalidArgument, message)
    }

    static func unsupported(_ message: String) -> PixeltableError {
        PixeltableError(.unsupportedOperation, message)
    }

    static func `internal`(_ message: String) -> PixeltableError {
        PixeltableError(.internalError, message)
    }
}

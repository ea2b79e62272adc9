import Foundation
import Pixeltable

/// An API key a service accepts, optionally limited to some of its routes.
public struct APIKey: Sendable, Hashable, CustomStringConvertible {
    /// The secret itself.
    public var key: String
    /// The route paths (as declared, without the service prefix) the key may call; `nil` for
    /// every route. A key limited to routes may still read `/jobs/…` and `/media/…`.
    public var routes: [String]?

    /// A key for every route, or for `routes` only.
    public init(_ key: String, routes: [String]? = nil) {
        self.key = key
        self.routes = routes
    }

    /// The key shown as `***`, its routes as they are.
    public var description: String { routes.map { "APIKey(***, routes: \($0))" } ?? "APIKey(***)" }

    /// `{"key": "***", "routes": …}`.
    var json: JSONValue {
        ["key": "***", "routes": routes.map { .array($0.map { .string($0) }) } ?? .null]
    }
}

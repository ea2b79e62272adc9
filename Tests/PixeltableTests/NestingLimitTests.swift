import Foundation
import Testing
@testable import Pixeltable

/// Deeply nested input is an error naming the file, line and column, not a stack overflow
/// (issue #12, defect 6: the daemon crashed on such module files, and again on each retry).
@Suite struct NestingLimitTests {
    /// Runs `body` on a thread with a 2 MiB stack, a quarter of what the daemon's and the
    /// server's threads have (8 MiB here, tasks and event loops alike), in a debug build, whose
    /// frames are the largest (a level of the expression parser takes 10–20 KiB there); an
    /// overflow would crash the test process.
    func onSmallStack<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in
            let t = Thread { c.resume(returning: body()) }
            t.stackSize = 2 << 20
            t.start()
        }
    }

    static func module(_ expr: String) -> String {
        "[[table]]\npath = \"t\"\n[table.columns]\nid = \"Int\"\ntitle = \"String\"\n\n[[table.computed]]\nname = \"c\"\nexpr = \"\(expr)\"\n"
    }

    static let n = 10_000
    static let hostileExpressions: [(String, String)] = [
        ("parentheses", String(repeating: "(", count: n) + "id" + String(repeating: ")", count: n)),
        ("a chain of +", Array(repeating: "id + 1", count: n).joined(separator: " + ")),
        ("a chain of and", Array(repeating: "id > 1", count: n).joined(separator: " and ")),
        ("not", String(repeating: "not ", count: n) + "true"),
        ("unary minus", String(repeating: "- ", count: n) + "id"),
        ("method calls", "title" + String(repeating: ".upper()", count: n)),
        ("lists", String(repeating: "[", count: n) + String(repeating: "]", count: n)),
        ("indexes", "title" + String(repeating: "[0]", count: n)),
    ]

    @Test func deepExpressionsAreErrorsWithTheirPlace() async throws {
        for (name, expr) in Self.hostileExpressions {
            let parsed = await onSmallStack { () -> String in
                do {
                    _ = try ExpressionParser.parse(expr)
                    return "parsed"
                } catch {
                    return "\((error as? ExpressionError).map { "\($0.message) at column \($0.column)" } ?? "\(error)")"
                }
            }
            #expect(parsed.contains("nested deeper than \(ExpressionParser.maxDepth) levels"), "\(name): \(parsed.prefix(300))")
            // In a module file, the message names the file and the line.
            let message = await withCatalogMessage { cat in try await ModuleFile.parse(Self.module(expr), file: "deep.toml").apply(cat) }
            #expect(message.contains("nested deeper than \(ExpressionParser.maxDepth) levels"), "\(name): \(message.prefix(300))")
            #expect(message.contains("deep.toml:9"), "\(name): \(message.prefix(300))")
        }
    }

    func withCatalogMessage(_ body: (Catalog) async throws -> Void) async -> String {
        do {
            try await withCatalog { cat, _ in try await body(cat) }
            return "applied"
        } catch {
            return (error as? PixeltableError)?.message ?? "\(error)"
        }
    }

    @Test func deepTOMLIsAnErrorWithItsPlace() async throws {
        let cases = [
            ("arrays", "x = " + String(repeating: "[", count: 20_000)),
            ("inline tables", "x = " + String(repeating: "{ a = ", count: 20_000)),
            ("dotted keys", Array(repeating: "a", count: 20_000).joined(separator: ".") + " = 1"),
            ("a dotted header", "[" + Array(repeating: "a", count: 20_000).joined(separator: ".") + "]"),
            ("dotted keys in inline tables", "x = " + String(repeating: "{ a.b.c.d.e.f.g.h.i.j = ", count: 2_000)),
        ]
        for (name, text) in cases {
            let message = await onSmallStack { () -> String in
                do {
                    _ = try ModuleFile.parse("# hostile\n" + text + "\n", file: "deep.toml")
                    return "parsed"
                } catch {
                    return (error as? PixeltableError)?.message ?? "\(error)"
                }
            }
            #expect(message.contains("nested deeper than \(TOMLParseState.maxDepth) levels"), "\(name): \(message.prefix(300))")
            #expect(message.contains("deep.toml:2:"), "\(name): \(message.prefix(300))")
        }
    }

    /// Just under the limits everything works: parse, bind, store, evaluate.
    @Test func nestingUnderTheLimitsStillWorks() async throws {
        try await withCatalog { cat, _ in
            let parens = String(repeating: "(", count: 60) + "id" + String(repeating: ")", count: 60)
            let chain = Array(repeating: "id", count: 60).joined(separator: " + ")
            let text = """
                [[table]]
                path = "t"
                nested = [[[[[[[[[[1]]]]]]]]]]
                [table.columns]
                id = "Int"
                [[table.computed]]
                name = "p"
                expr = "\(parens) + 1"
                [[table.computed]]
                name = "s"
                expr = "\(chain)"
                """
            let m = try ModuleFile.parse(text.replacingOccurrences(of: "nested = [[[[[[[[[[1]]]]]]]]]]\n", with: ""), file: "ok.toml")
            try await m.apply(cat)
            let t = try await cat.table("t")
            _ = try await t.insert([["id": 2]])
            let row = try #require(try await t.select(["p", "s"]).rows.first)
            #expect(row.values == [.int(3), .int(120)])
            _ = try TOMLParser.parse("x = " + String(repeating: "[", count: 90) + String(repeating: "]", count: 90) + "\n")
        }
    }
}

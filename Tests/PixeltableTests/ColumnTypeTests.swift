import Foundation
import Testing
@testable import Pixeltable

@Suite struct ColumnTypeTests {
    @Test func displaysLikePixeltable() throws {
        #expect(ColumnType.int.description == "Int | None")
        #expect(ColumnType.int.required.description == "Int")
        #expect(try ColumnType.parse("Required[String]").description == "String")
        #expect(try ColumnType.parse("String").description == "String | None")
        #expect(try ColumnType.parse("Array[(3,), float32]").description == "Array[(3,), float32] | None")
        #expect(try ColumnType.parse("Array[(None, 2), Int]").baseDescription == "Array[(None, 2), int64]")
        #expect(try ColumnType.parse("json").kind == .json)
        #expect(try ColumnType.parse("UUID").description == "UUID | None")
        for k in ColumnType.Kind.allCases {
            #expect(try ColumnType.parse(k.rawValue).kind == k)
        }
    }

    @Test func rejectsUnknownTypes() {
        #expect(throws: PixeltableError.self) { try ColumnType.parse("Integer[") }
        #expect(throws: PixeltableError.self) { try ColumnType.parse("Array[(x,), float32]") }
    }

    @Test func coercesWireValues() throws {
        #expect(try ColumnType.int.coerce(.json(.int(3))).get() == .int(3))
        #expect(try ColumnType.int.coerce(.float(3.0)).get() == .int(3))
        #expect(throws: CoercionFailure.self) { try ColumnType.int.coerce(.string("3")).get() }
        #expect(try ColumnType.int.coerce(.string("3"), lax: true).get() == .int(3))
        #expect(try ColumnType.float.coerce(.int(2)).get() == .float(2))
        #expect(try ColumnType.bool.coerce(.string("yes"), lax: true).get() == .bool(true))
        #expect(throws: CoercionFailure.self) { try ColumnType.string.coerce(.int(1)).get() }
        #expect(throws: CoercionFailure.self) { try ColumnType.int.required.coerce(.null).get() }
        let ts = try ColumnType.timestamp.coerce(.string("2024-02-03T04:05:06.5+01:00")).get()
        #expect(ts == .timestamp(Timestamp(microseconds: 1_706_929_506_500_000)))
        #expect(ts.json == .string("2024-02-03T03:05:06.500000Z"))
        #expect(try ColumnType.date.coerce(.string("2024-02-29")).get().json == .string("2024-02-29"))
        #expect(throws: CoercionFailure.self) { try ColumnType.date.coerce(.string("2023-02-29")).get() }
        let u = try ColumnType.uuid.coerce(.string("6F9619FF-8B86-D011-B42D-00CF4FC964FF")).get()
        #expect(u.json == .string("6f9619ff-8b86-d011-b42d-00cf4fc964ff"))
        let arr = try ColumnType.parse("Array[(2, 2), float32]").coerce(.json([[1, 2], [3, 4.5]])).get()
        #expect(arr.json == [[1.0, 2.0], [3.0, 4.5]])
        #expect(throws: CoercionFailure.self) { try ColumnType.parse("Array[(3,), float32]").coerce(.json([1, 2])).get() }
        #expect(try ColumnType.json.coerce(.string("x")).get() == .json("x"))
    }

    @Test func arraysRoundTripThroughStorage() throws {
        let a = NDArray(shape: [2, 3], storage: .float32([1, 2, 3, 4, 5, 6]))
        #expect(NDArray(encoded: a.encoded) == a)
        let s = NDArray(shape: [2], storage: .string(["a", "bé"]))
        #expect(NDArray(encoded: s.encoded) == s)
    }

    @Test func timestampsFormatAndParse() throws {
        let t = try #require(Timestamp.parse("1999-12-31 23:59:59"))
        #expect(t.iso8601 == "1999-12-31T23:59:59Z")
        #expect(t.iso8601Micros == "1999-12-31T23:59:59.000000Z")
        #expect(Timestamp.parse("2024-13-01") == nil)
        #expect(DateValue(year: 2024, month: 3, day: 1)!.weekday == 4)
        #expect(Timestamp(microseconds: -1).components.year == 1969)
    }
}

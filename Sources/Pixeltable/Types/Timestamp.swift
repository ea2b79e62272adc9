import Foundation

/// A point in time with microsecond precision, stored as microseconds since the Unix epoch (UTC).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    /// A timestamp from microseconds since the epoch.
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// A timestamp from a Foundation date.
    public init(_ date: Date) {
        microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The current time.
    public static var now: Timestamp { Timestamp(Date()) }

    /// The Foundation date.
    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// The civil (UTC) fields of this timestamp.
    public var components: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, microsecond: Int) {
        let perDay: Int64 = 86_400_000_000
        var days = microseconds / perDay
        var rem = microseconds % perDay
        if rem < 0 { rem += perDay; days -= 1 }
        let (y, m, d) = DateValue.civil(fromDays: Int(days))
        let secs = Int(rem / 1_000_000)
        return (y, m, d, secs / 3600, (secs / 60) % 60, secs % 60, Int(rem % 1_000_000))
    }

    /// The day this timestamp falls on, in UTC.
    public var dateValue: DateValue {
        let perDay: Int64 = 86_400_000_000
        var days = microseconds / perDay
        if microseconds % perDay < 0 { days -= 1 }
        return DateValue(daysSinceEpoch: Int(days))
    }

    /// ISO-8601 with a `Z` suffix, microseconds only when non-zero, as pydantic writes UTC datetimes.
    public var iso8601: String {
        let c = components
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second)
        if c.microsecond != 0 { s += String(format: ".%06d", c.microsecond) }
        return s + "Z"
    }

    /// ISO-8601 with microseconds always present and a `Z` suffix, as the CLI prints `created_at`.
    public var iso8601Micros: String {
        let c = components
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month, c.day, c.hour, c.minute, c.second, c.microsecond)
    }

    /// Python's `datetime.isoformat()` of an aware UTC datetime: `+00:00` suffix.
    public var pythonISOFormat: String {
        let c = components
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second)
        if c.microsecond != 0 { s += String(format: ".%06d", c.microsecond) }
        return s + "+00:00"
    }

    public var description: String { iso8601 }

    /// Parses ISO-8601 date-times: `2024-01-02T03:04:05.123456+02:00`, `...Z`, a space instead of
    /// `T`, or a bare date. A value without an offset is taken as UTC.
    public static func parse(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = num(4), expect(UInt8(ascii: "-")), let mo = num(2), expect(UInt8(ascii: "-")), let d = num(2) else {
            return nil
        }
        guard mo >= 1 && mo <= 12 && d >= 1 && d <= DateValue.daysIn(month: mo, year: y) else { return nil }
        var h = 0, mi = 0, s = 0, us = 0
        var offsetMinutes = 0
        if i < b.count {
            guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "t") else { return nil }
            i += 1
            guard let hh = num(2), expect(UInt8(ascii: ":")), let mm = num(2) else { return nil }
            h = hh; mi = mm
            if expect(UInt8(ascii: ":")) {
                guard let ss = num(2) else { return nil }
                s = ss
                if expect(UInt8(ascii: ".")) || expect(UInt8(ascii: ",")) {
                    var digits = 0
                    var frac = 0
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        if digits < 6 { frac = frac * 10 + Int(b[i] - 48); digits += 1 }
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                    while digits < 6 { frac *= 10; digits += 1 }
                    us = frac
                }
            }
            guard h < 24, mi < 60, s < 61 else { return nil }
            if i < b.count {
                if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
                    i += 1
                } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                    let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                    i += 1
                    guard let oh = num(2) else { return nil }
                    _ = expect(UInt8(ascii: ":"))
                    let om = num(2) ?? 0
                    offsetMinutes = sign * (oh * 60 + om)
                } else {
                    return nil
                }
            }
        }
        guard i == b.count else { return nil }
        let days = Int64(DateValue.days(year: y, month: mo, day: d))
        var micros = days * 86_400_000_000
        micros += Int64(h * 3600 + mi * 60 + s) * 1_000_000 + Int64(us)
        micros -= Int64(offsetMinutes) * 60_000_000
        return Timestamp(microseconds: micros)
    }
}

/// A calendar date without a time zone.
public struct DateValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int

    /// A date from days since the epoch.
    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// A date from its fields; `nil` when they name no day.
    public init?(year: Int, month: Int, day: Int) {
        guard month >= 1 && month <= 12 && day >= 1 && day <= Self.daysIn(month: month, year: year) else { return nil }
        daysSinceEpoch = Self.days(year: year, month: month, day: day)
    }

    public static func < (a: DateValue, b: DateValue) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// The civil fields.
    public var components: (year: Int, month: Int, day: Int) { Self.civil(fromDays: daysSinceEpoch) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let c = components
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }

    /// ISO weekday, Monday = 0 as Python's `weekday()`.
    public var weekday: Int {
        // 1970-01-01 was a Thursday (weekday 3).
        ((daysSinceEpoch % 7) + 7 + 3) % 7
    }

    /// Parses `YYYY-MM-DD`.
    public static func parse(_ text: String) -> DateValue? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        return DateValue(year: y, month: m, day: d)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since the epoch of a civil date (Howard Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since the epoch.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

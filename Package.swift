// swift-tools-version:6.2
import PackageDescription

// Upcoming features adopted as Hummingbird does: explicit `any`, and imports that are visible
// only where they are declared.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "pxt",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Pixeltable", targets: ["Pixeltable"]),
        .library(name: "PixeltableServing", targets: ["PixeltableServing"]),
        .library(name: "PixeltableCLI", targets: ["PixeltableCLI"]),
        .executable(name: "pxt", targets: ["pxt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // C helpers the Swift standard library does not reach (glibc's mallopt).
        .target(name: "CPxtShims"),
        .target(
            name: "Pixeltable",
            dependencies: ["CPxtShims", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PixeltableServing",
            dependencies: [
                "Pixeltable",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PixeltableCLI",
            dependencies: [
                "Pixeltable",
                "PixeltableServing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "pxt", dependencies: ["Pixeltable", "PixeltableCLI"], swiftSettings: swiftSettings),
        // Benchmark driver for the scripts in bench/ (and the hello-world ceiling server).
        .executableTarget(
            name: "pxt-bench",
            dependencies: [
                "Pixeltable", "PixeltableServing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "PixeltableTests", dependencies: ["Pixeltable"], swiftSettings: swiftSettings),
        .testTarget(name: "PixeltableServingTests", dependencies: ["PixeltableServing"], swiftSettings: swiftSettings),
        .testTarget(name: "PixeltableCLITests", dependencies: ["PixeltableCLI"], swiftSettings: swiftSettings),
    ]
)

// swift-tools-version:6.1
import PackageDescription

/// Benchmarks live in their own package, as in swift-nio and swift-kafka-client, so that
/// benchmark-only dependencies (package-benchmark, HdrHistogram) never enter the daemon's build.
let package = Package(
    name: "kafka-chat-producer-benchmarks",
    dependencies: [
        .package(name: "kafka-chat-producer", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The WebSocket load generator (and the raw-librdkafka ceiling), used by `make bench`.
        .executableTarget(
            name: "load-generator",
            dependencies: [
                .product(name: "Kafka", package: "kafka-chat-producer"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/LoadGenerator",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // librdkafka's mock cluster in a process of its own, so the daemon's CPU and RSS are its own.
        .executableTarget(
            name: "mock-broker",
            dependencies: [
                .product(name: "Kafka", package: "kafka-chat-producer"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/MockBroker",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Echo server on the daemon's own frame reader and writer, for Autobahn|Testsuite (`scripts/autobahn`).
        .executableTarget(
            name: "autobahn-echo",
            dependencies: [
                .product(name: "WebSocketProtocol", package: "kafka-chat-producer"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/AutobahnEcho",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        // Microbenchmarks of the per-message path (package-benchmark: `swift package benchmark`).
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ChatContract", package: "kafka-chat-producer"),
                .product(name: "Ingest", package: "kafka-chat-producer"),
                .product(name: "WebSocketProtocol", package: "kafka-chat-producer"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/IngestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

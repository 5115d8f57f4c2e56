// swift-tools-version:6.1
import PackageDescription

/// Benchmarks live in their own package, as in swift-nio and swift-kafka-client, so that
/// benchmark-only dependencies never enter the daemon's build.
let package = Package(
    name: "kafka-chat-producer-benchmarks",
    dependencies: [
        .package(name: "kafka-chat-producer", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "load-generator",
            dependencies: [
                .product(name: "Kafka", package: "kafka-chat-producer"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LoadGenerator",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)

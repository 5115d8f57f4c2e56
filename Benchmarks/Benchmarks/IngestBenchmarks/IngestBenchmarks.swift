import Benchmark

/// Microbenchmarks of the per-message path: the message contract, the topic ring, and the whole
/// frame → validator → ring path as one event-loop thread runs it.
///
/// Every benchmark reports wall clock, throughput and `mallocCountTotal`. Each iteration handles a
/// fixed batch of messages or records and declares it as the scaling factor, so the default table
/// shows the cost *per message* (columns marked `*`); `--scale` shows the raw per-iteration totals,
/// which is where a fraction of an allocation per message becomes visible (the per-message view
/// rounds to whole allocations).
let benchmarks: @Sendable () -> Void = {
    registerValidatorBenchmarks()
    registerRingBenchmarks()
    registerPipelineBenchmarks()
}

/// What every benchmark here measures: time, and whether the hot path allocates (the goal is zero).
let hotPathMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

/// Settings for the single-threaded benchmarks: short runs, so the whole suite stays well under two
/// minutes on a 2-core machine.
func singleThreadConfiguration(
    scalingFactor: BenchmarkScalingFactor,
    setup: Benchmark.BenchmarkSetupHook? = nil,
    teardown: Benchmark.BenchmarkTeardownHook? = nil
) -> Benchmark.Configuration {
    .init(
        metrics: hotPathMetrics,
        warmupIterations: 5,
        scalingFactor: scalingFactor,
        maxDuration: .seconds(2),
        maxIterations: 20_000,
        setup: setup,
        teardown: teardown
    )
}

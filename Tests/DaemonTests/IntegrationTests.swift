import Testing

/// Every test that starts a daemon lives under this suite, which runs them one at a time: on two cores,
/// daemons competing with each other would only make timings noisy.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct IntegrationTests {}

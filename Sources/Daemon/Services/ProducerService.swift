import Ingest
import ServiceLifecycle

/// The producer thread as a service. It is first in the service group, so it is shut down last: by then
/// the gateway has drained every ring and librdkafka, and stopping the thread loses nothing.
struct ProducerService: Service {
    let producer: ProducerThread

    func run() async throws {
        try? await gracefulShutdown()
        await self.producer.stop()
    }
}

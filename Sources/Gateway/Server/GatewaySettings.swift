import Access
import Atomics

/// The part of the gateway's configuration a reload may replace, as one immutable value: the handshake
/// checks, the limits and the per-connection settings. `GatewayContext` swaps it atomically, so a
/// handshake or a new connection reads one consistent snapshot without a lock, and nothing per message
/// reads it at all (a connection copies what it needs when it opens, and a reload visits each open one).
final class GatewaySettings: AtomicReference, Sendable {
    /// As of the last reload; its listener address, drain timing and record-key policy are the startup
    /// ones (`GatewayContext.configuration`): changing those needs a restart.
    let configuration: GatewayConfiguration
    let access: AccessControl
    let limits: LimitsRuntime

    init(configuration: GatewayConfiguration, access: AccessControl, limits: LimitsRuntime) {
        self.configuration = configuration
        self.access = access
        self.limits = limits
    }
}

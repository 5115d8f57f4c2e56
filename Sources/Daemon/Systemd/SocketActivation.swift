import CSystemd

/// systemd socket activation: the listening socket systemd passed (`LISTEN_FDS`/`LISTEN_PID`), if any.
enum SocketActivation {
    /// The first passed socket (fd 3); the variables are unset so children do not inherit them.
    static func passedSocket() -> Int32? {
        let count = sd_listen_fds(1)
        return count > 0 ? SD_LISTEN_FDS_START : nil
    }
}

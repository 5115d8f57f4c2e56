import Daemon
import Foundation
import Gateway
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension IntegrationTests {
    /// The units as `make install` writes them, checked by systemd's own tools. systemd need not be PID 1:
    /// `systemd-analyze --root`, `systemd-sysusers --root` and `systemd-tmpfiles --root` work offline.
    @Suite("systemd: installed units")
    struct SystemdUnits {
        static let name = "kafka-chat-producer"
        static let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

        /// Every file `make install PREFIX=/usr` writes, relative to DESTDIR.
        static let packageFiles: Set<String> = [
            "usr/bin/kafka-chat-producer",
            "usr/lib/systemd/system/kafka-chat-producer.service",
            "usr/lib/systemd/system/kafka-chat-producer.socket",
            "usr/lib/sysusers.d/kafka-chat-producer.conf",
            "usr/lib/tmpfiles.d/kafka-chat-producer.conf",
            "usr/share/doc/kafka-chat-producer/README.md",
            "usr/share/doc/kafka-chat-producer/kafka-chat-producer.conf.example",
            "etc/kafka-chat-producer/kafka-chat-producer.conf",
        ]

        /// A fresh, empty temporary DESTDIR.
        static func temporaryRoot() throws -> String {
            let path = NSTemporaryDirectory() + "kcp-install-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }

        /// `make install` (or `uninstall`) into `destdir`, installing the binary the tests already run
        /// (`BINARY=`) so that no release build is needed. Install settings from the caller's environment
        /// are removed: only the command line decides where files go.
        static func make(_ target: String, destdir: String, prefix: String? = "/usr") async throws -> ToolRun {
            var arguments = [
                "-C", Self.repository, target, "DESTDIR=\(destdir)", "BINARY=\(DaemonProcess.binary.path)",
            ]
            if let prefix { arguments.append("PREFIX=\(prefix)") }
            let settings: Set<String> = [
                "DESTDIR", "PREFIX", "BINDIR", "SYSCONFDIR", "DOCDIR", "UNITDIR", "SYSUSERSDIR", "TMPFILESDIR",
                "BINARY",
            ]
            return try await ToolRun.run("make", arguments, removing: settings)
        }

        /// Regular files and symlinks under `root`, relative to it.
        static func files(under root: String) -> Set<String> {
            var found: Set<String> = []
            guard let walker = FileManager.default.enumerator(atPath: root) else { return found }
            while let path = walker.nextObject() as? String {
                let type = walker.fileAttributes?[.type] as? FileAttributeType
                if type != .typeDirectory { found.insert(path) }
            }
            return found
        }

        static func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }

        /// The value of the first `key=` line of a unit.
        static func setting(_ key: String, in unit: String) -> String? {
            unit.split(separator: "\n").first { $0.hasPrefix("\(key)=") }.map { String($0.dropFirst(key.count + 1)) }
        }

        /// Makes `root` (an installed DESTDIR) verifiable: `--root` resolves dependencies inside it, so the
        /// host's targets and slices are copied to `root/lib/systemd/system`, a directory `make install
        /// PREFIX=/usr` never writes (its units are in usr/lib/systemd/system).
        static func prepareVerifyRoot(_ root: String) async throws {
            let hostUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].first {
                FileManager.default.fileExists(atPath: "\($0)/sysinit.target")
            }
            let source = try #require(
                hostUnits,
                "no systemd units on this machine: scripts/install-deps installs the systemd package"
            )
            let copy = try await ToolRun.run(
                "sh",
                [
                    // The units systemd ships, and the shell ExecReload= runs (verify checks it is executable).
                    "-c",
                    #"mkdir -p "$1" "$2/bin" && cp -P "$0"/*.target "$0"/*.slice "$1"/ && cp -L /bin/sh "$2/bin/sh""#,
                    source, root + "/lib/systemd/system", root,
                ]
            )
            try #require(copy.status == 0, "\(copy.output)")
        }

        static func verify(root: String, units: [String]) async throws -> VerifyVerdict {
            let run = try await ToolRun.run("systemd-analyze", ["--root=\(root)", "verify"] + units)
            return VerifyVerdict(run, about: [Self.name + ".service", Self.name + ".socket"] + units)
        }

        static func installedUnits(_ root: String) -> [String] {
            [
                "\(root)/usr/lib/systemd/system/\(Self.name).service",
                "\(root)/usr/lib/systemd/system/\(Self.name).socket",
            ]
        }

        @Test("make install DESTDIR=… PREFIX=/usr writes every file, with the binary's path in the units")
        func installedFiles() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root)
            try #require(install.status == 0, "\(install.output)")

            #expect(Self.files(under: root) == Self.packageFiles)
            #expect(FileManager.default.isExecutableFile(atPath: "\(root)/usr/bin/\(Self.name)"))
            #expect(try Self.mode("\(root)/etc/\(Self.name)") == 0o750)
            #expect(try Self.mode("\(root)/etc/\(Self.name)/\(Self.name).conf") == 0o640)

            let service = try String(
                contentsOfFile: "\(root)/usr/lib/systemd/system/\(Self.name).service",
                encoding: .utf8
            )
            #expect(
                Self.setting("ExecStart", in: service)
                    == "/usr/bin/kafka-chat-producer --config /etc/kafka-chat-producer/kafka-chat-producer.conf"
            )
            #expect(Self.setting("Documentation", in: service) == "file:/usr/share/doc/kafka-chat-producer/README.md")
            #expect(Self.setting("Type", in: service) == "notify")
            #expect(Self.setting("NotifyAccess", in: service) == "main")
            #expect(Self.setting("User", in: service) == Self.name)
            // The socket stays optional: nothing in the service may pull it in or require it.
            #expect(Self.setting("Sockets", in: service) == nil)
            #expect(Self.setting("Requires", in: service) == nil)
            // The daemon's own listener survives a restart in systemd's fd store (FDSTORE=1, one fd).
            #expect(Self.setting("FileDescriptorStoreMax", in: service) == "1")
            // Stopping must outlast the drain the daemon announces with STOPPING=1 at the defaults.
            let defaults = DaemonConfiguration()
            let stopSeconds = try #require(Self.setting("TimeoutStopSec", in: service).flatMap(Double.init))
            #expect(stopSeconds > defaults.drainTimeoutSeconds + defaults.closeTimeoutSeconds + 5)

            let socket = try String(
                contentsOfFile: "\(root)/usr/lib/systemd/system/\(Self.name).socket",
                encoding: .utf8
            )
            #expect(Self.setting("ListenStream", in: socket) == String(defaults.listenPort))
            #expect(Self.setting("Backlog", in: socket) == String(GatewayServer.backlog))
            let tmpfiles = try String(contentsOfFile: "\(root)/usr/lib/tmpfiles.d/\(Self.name).conf", encoding: .utf8)
            #expect(
                tmpfiles.contains("/etc/kafka-chat-producer/kafka-chat-producer.conf 0640 root kafka-chat-producer")
            )
        }

        @Test("the default PREFIX=/usr/local gets units that start /usr/local/bin/kafka-chat-producer")
        func defaultPrefix() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root, prefix: nil)
            try #require(install.status == 0, "\(install.output)")
            #expect(FileManager.default.isExecutableFile(atPath: "\(root)/usr/local/bin/\(Self.name)"))
            let service = try String(
                contentsOfFile: "\(root)/usr/local/lib/systemd/system/\(Self.name).service",
                encoding: .utf8
            )
            #expect(
                Self.setting("ExecStart", in: service)
                    == "/usr/local/bin/kafka-chat-producer --config /etc/kafka-chat-producer/kafka-chat-producer.conf"
            )
            #expect(
                Self.setting("Documentation", in: service) == "file:/usr/local/share/doc/kafka-chat-producer/README.md"
            )
            #expect(!service.contains("/usr/bin/"), "a path was not rewritten")
            #expect(FileManager.default.fileExists(atPath: "\(root)/usr/local/lib/sysusers.d/\(Self.name).conf"))
            #expect(FileManager.default.fileExists(atPath: "\(root)/usr/local/lib/tmpfiles.d/\(Self.name).conf"))
        }

        @Test("systemd-analyze verify finds nothing to say about the installed service and socket")
        func verify() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root)
            try #require(install.status == 0, "\(install.output)")
            try await Self.prepareVerifyRoot(root)

            let verdict = try await Self.verify(root: root, units: Self.installedUnits(root))
            #expect(verdict.problems.isEmpty, "systemd-analyze verify: \(verdict.problems.joined(separator: "\n"))")
            // A failure with nothing said about our units must at least have been explained by the host's.
            #expect(
                verdict.status == 0 || !verdict.noise.isEmpty,
                "systemd-analyze verify exited \(verdict.status) without a word"
            )
            if !verdict.noise.isEmpty {
                print("systemd-analyze verify, tolerated (host units):\n\(verdict.noise.joined(separator: "\n"))")
            }
        }

        @Test(
            "the verify check fails on a unit systemd would warn about",
            arguments: [
                ("LockPersonality=yes", "LockPersonality=yes\nNoSuchSetting=1"),
                ("ProtectHome=yes", "ProtectHome=sometimes"),
                ("ExecStart=/usr/bin/", "ExecStart=/usr/sbin/"),
                ("After=network-online.target", "After=network-online.target\nRequires=no-such-unit.service"),
            ]
        )
        func verifyCatchesWarnings(original: String, broken: String) async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root)
            try #require(install.status == 0, "\(install.output)")
            try await Self.prepareVerifyRoot(root)
            let path = Self.installedUnits(root)[0]
            let unit = try String(contentsOfFile: path, encoding: .utf8)
            try #require(unit.contains(original))
            try unit.replacingOccurrences(of: original, with: broken).write(
                toFile: path,
                atomically: true,
                encoding: .utf8
            )

            let verdict = try await Self.verify(root: root, units: Self.installedUnits(root))
            #expect(!verdict.problems.isEmpty, "no finding for \(broken); noise: \(verdict.noise)")
        }

        @Test("systemd-analyze security: the sandbox keeps the exposure at 2.0 or below")
        func exposure() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root)
            try #require(install.status == 0, "\(install.output)")
            try await Self.prepareVerifyRoot(root)
            // --threshold counts tenths: 20 is an exposure of 2.0 (the units score 1.1 on systemd 252).
            let run = try await ToolRun.run(
                "systemd-analyze",
                [
                    "security", "--offline=yes", "--root=\(root)", "--threshold=20", "--no-pager",
                    Self.installedUnits(root)[0],
                ]
            )
            #expect(
                run.status == 0,
                "\(run.lines.filter { $0.contains("✗") || $0.contains("Overall") }.joined(separator: "\n"))"
            )
        }

        /// Needs root: tmpfiles changes the group of the config to the new user's.
        @Test(
            "sysusers creates the user; tmpfiles gives its group the config and nobody else",
            .enabled(if: getuid() == 0)
        )
        func sysusersAndTmpfiles() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let install = try await Self.make("install", destdir: root)
            try #require(install.status == 0, "\(install.output)")
            let sysusersFile = "\(root)/usr/lib/sysusers.d/\(Self.name).conf"
            let tmpfilesFile = "\(root)/usr/lib/tmpfiles.d/\(Self.name).conf"

            let sysusers = try await ToolRun.run("systemd-sysusers", ["--root=\(root)", sysusersFile])
            #expect(sysusers.status == 0, "\(sysusers.output)")
            // It announces what it creates; anything naming the snippet is a complaint about it.
            #expect(!sysusers.lines.contains { $0.contains(sysusersFile) }, "\(sysusers.output)")
            let passwd = try String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8)
            let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("\(Self.name):") })
            let fields = user.split(separator: ":", omittingEmptySubsequences: false)
            #expect(fields.last == "/usr/sbin/nologin" || fields.last == "/sbin/nologin", "\(user)")
            let group = try String(contentsOfFile: "\(root)/etc/group", encoding: .utf8)
            let gid = try #require(
                group.split(separator: "\n").first { $0.hasPrefix("\(Self.name):") }?.split(separator: ":")[2]
            )

            let tmpfiles = try await ToolRun.run("systemd-tmpfiles", ["--root=\(root)", "--create", tmpfilesFile])
            #expect(tmpfiles.status == 0, "\(tmpfiles.output)")
            #expect(tmpfiles.lines.isEmpty, "\(tmpfiles.output)")
            for (path, mode) in [
                ("\(root)/etc/\(Self.name)", 0o750), ("\(root)/etc/\(Self.name)/\(Self.name).conf", 0o640),
            ] {
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                #expect(attributes[.posixPermissions] as? Int == mode, "\(path)")
                #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.stringValue == String(gid), "\(path)")
                #expect((attributes[.ownerAccountID] as? NSNumber)?.intValue == 0, "\(path)")
            }
        }

        @Test("install keeps an existing config; uninstall removes every file but an edited config")
        func reinstallAndUninstall() async throws {
            let root = try Self.temporaryRoot()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let config = "\(root)/etc/\(Self.name)/\(Self.name).conf"
            try #require(try await Self.make("install", destdir: root).status == 0)
            try "kafka.bootstrap_servers = kafka1:9092\n".write(toFile: config, atomically: true, encoding: .utf8)

            let again = try await Self.make("install", destdir: root)
            try #require(again.status == 0, "\(again.output)")
            #expect(try String(contentsOfFile: config, encoding: .utf8) == "kafka.bootstrap_servers = kafka1:9092\n")
            #expect(again.output.contains("keeping the existing"))

            let edited = try await Self.make("uninstall", destdir: root)
            try #require(edited.status == 0, "\(edited.output)")
            #expect(Self.files(under: root) == ["etc/\(Self.name)/\(Self.name).conf"])

            // A config still as shipped is removed with the rest, its directory too.
            try FileManager.default.removeItem(atPath: config)
            try #require(try await Self.make("install", destdir: root).status == 0)
            try #require(try await Self.make("uninstall", destdir: root).status == 0)
            #expect(Self.files(under: root).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "\(root)/etc/\(Self.name)"))
        }
    }
}

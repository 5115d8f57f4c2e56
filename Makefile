# Convenience targets; each one is a script in scripts/.
.PHONY: run test check-full format lint bench bench-quick microbench install uninstall deb

# Install locations (see scripts/install): `make install PREFIX=/usr DESTDIR=/tmp/pkg` stages a package,
# `make install BINARY=path` installs a binary built elsewhere instead of building a release one.
PREFIX ?= /usr/local
INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' BINDIR='$(BINDIR)' SYSCONFDIR='$(SYSCONFDIR)' \
	DOCDIR='$(DOCDIR)' UNITDIR='$(UNITDIR)' SYSUSERSDIR='$(SYSUSERSDIR)' TMPFILESDIR='$(TMPFILESDIR)' \
	BINARY='$(BINARY)'

run:            ## the daemon against the embedded mock broker
	scripts/run --embedded-broker

test:           ## the whole test suite
	scripts/test

check-full:     ## what CI runs (.ci/run), plus the whole suite under AddressSanitizer + LeakSanitizer
	bash .ci/run
	scripts/test-sanitizers address

format:         ## swift format, in place
	scripts/format

lint:           ## swift format lint --strict, as CI runs it
	scripts/format --check

bench:          ## the load-test matrix: Markdown tables, HTML report + JSON in Benchmarks/results; BASELINE=earlier.json compares
	scripts/bench $(if $(BASELINE),--baseline '$(BASELINE)')

bench-quick:    ## one small load-test cell (CI smoke run)
	scripts/bench --quick

microbench:     ## package-benchmark microbenchmarks of the per-message path
	scripts/microbench

install:        ## binary, systemd units, sysusers/tmpfiles snippets, config, README (DESTDIR, PREFIX)
	$(INSTALL_ENV) scripts/install install

uninstall:      ## removes what install put there (an edited config stays)
	$(INSTALL_ENV) scripts/install uninstall

deb:            ## the Debian package .build-deb/kafka-chat-producer_<version>_<arch>.deb (scripts/build-deb)
	scripts/build-deb

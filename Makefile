# Convenience targets; each one is a script in scripts/.
.PHONY: run test bench bench-quick microbench

run:            ## the daemon against the embedded mock broker
	scripts/run --embedded-broker

test:           ## the whole test suite
	scripts/test

bench:          ## the load-test matrix, printed as a Markdown table
	scripts/bench

bench-quick:    ## one small load-test cell (CI smoke run)
	scripts/bench --quick

microbench:     ## package-benchmark microbenchmarks of the per-message path
	scripts/microbench

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# The two commands of the README, plus the usual helpers.
#   make run    install what is missing, build, start `sinkd serve` on defaults
#   make test   install what is missing, build (plain and ASan+UBSan), run every test

BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(notdir $(basename $(wildcard fuzz/fuzz_*.c)))

.PHONY: demo bench-report all deps build build-asan build-fuzz fuzz fuzz-smoke run test test-asan bench-dns bench-http bench-store bench-domains bench-classify bench-admin soak valgrind format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_SAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSINKD_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

build-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD_FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSINKD_SANITIZE=ON \
		-DSINKD_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $(FUZZ_TARGETS)

# Run every fuzz target under libFuzzer for FUZZ_SECONDS on a scratch copy of
# its seed corpus (new inputs land in $(BUILD_FUZZ)/corpus/, never in fuzz/).
fuzz: build-fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD_FUZZ)/corpus/$$t; \
		echo "== $$t ($(FUZZ_SECONDS) s)"; \
		./$(BUILD_FUZZ)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 $(BUILD_FUZZ)/corpus/$$t fuzz/$$t.in 2>&1 \
			| grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR)|Done" \
			|| true; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=8

run: build
	./$(BUILD)/sinkd serve

# Two weeks of a simulated Waledac-and-friends botnet (DHCP churn, NAT,
# cleanup half-life 7 days) through sinkd's pipeline (classification,
# decoders, enrichment, rollups, store: the code `sinkd serve` runs behind
# its listeners), then the summary and the HTML report.
DEMO_KEY := 5ea1ed5ea1ed5ea1ed5ea1ed5ea1ed00
demo: build
	@rm -rf demo && mkdir -p demo
	@printf '[decode]\nwaledac_key = $(DEMO_KEY)\n[store]\npath = demo/sinkd.db\n' > demo/sinkd.conf
	./$(BUILD)/sinkd sim --bots 3000 --days 14 --half-life 7 --churn 0.3 --nat 0.2:4 \
		--waledac-key $(DEMO_KEY) -c demo/sinkd.conf --store demo/sinkd.db --truth demo/truth.json
	./$(BUILD)/sinkd report summary -c demo/sinkd.conf
	@./$(BUILD)/sinkd report summary -c demo/sinkd.conf --format html --out demo/report.html
	@echo "HTML report: $(CURDIR)/demo/report.html (ground truth: demo/truth.json)"

bench-report: build
	cd $(BUILD) && ./bench_report --dir bench-report

# Ends with one summary line over both builds' ctest runs and the fuzz
# targets: "tests: N passed, N failed".
test: build build-asan
	@echo "== tests, release build"
	@cd $(BUILD) && ctest --output-on-failure -j 2 | tee ctest.log
	@echo "== tests, ASan+UBSan build"
	@cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j 2 | tee ctest.log
	@echo "== fuzz targets under libFuzzer, 8 s each"
	@$(MAKE) --no-print-directory fuzz-smoke
	@total=0; failed=0; \
	for f in $(BUILD)/ctest.log $(BUILD_SAN)/ctest.log; do \
		t=$$(sed -n 's/.* tests failed out of \([0-9]*\)$$/\1/p' $$f); \
		x=$$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' $$f); \
		total=$$((total + t)); failed=$$((failed + x)); \
	done; \
	fuzz=$(words $(FUZZ_TARGETS)); \
	echo "tests: $$((total - failed + fuzz)) passed, $$failed failed"

bench-dns: build
	@scripts/install-deps.sh --bench
	@bench/dns/run.sh $(BUILD)/sinkd

bench-http: build
	@scripts/install-deps.sh --bench
	@bench/http/run.sh $(BUILD)/sinkd

bench-store: build
	@./$(BUILD)/bench_store

bench-domains: build
	@./$(BUILD)/bench_domains

bench-classify: build
	@taskset -c $$(($$(nproc) - 1)) ./$(BUILD)/bench_classify

bench-admin: build
	@/usr/bin/python3 bench/admin/bench_admin.py --sinkd $(BUILD)/sinkd

soak: build
	@SINKD_BIN=$(BUILD)/sinkd /usr/bin/python3 bench/soak/soak.py --seconds $${SOAK_SECONDS:-120}

# Every cmocka unit test and one `sinkd serve` smoke run (dig, HTTP and TLS
# check-ins, SIGTERM) under valgrind memcheck; fails on a memory error or a
# definite/indirect leak. About 4 minutes on 2 cores, so not in `make test`.
# Logs in $(BUILD)/valgrind/.
valgrind: build
	@scripts/valgrind.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN)

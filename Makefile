# The two commands of the README, plus the usual helpers.
#   make run    install what is missing, build, start `sinkd serve` on defaults
#   make test   install what is missing, build (plain and ASan+UBSan), run every test

BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all deps build build-asan run test test-asan bench-dns bench-http bench-store bench-domains format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_SAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSINKD_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

run: build
	./$(BUILD)/sinkd serve

test: build build-asan
	@echo "== tests, release build"
	@cd $(BUILD) && ctest --output-on-failure -j 2
	@echo "== tests, ASan+UBSan build"
	@cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j 2

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

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_SAN)

# Thin wrapper over CMake for the README's two commands and CI.
#   make demo   build, then run the quickstart demo
#   make test   build, then run every test: the clang-format check, static
#               analysis, unit, CLI and integration tests, the same suite
#               under ASan+UBSan, and a bounded fuzzing run
#   make bench  the benchmarks under tests/bench (not part of make test)
# Both install missing Debian packages first (scripts/install-deps.sh).

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps build demo test unit asan fuzz lint format format-check bench clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)/sagesync

test: format-check lint unit asan fuzz
	@echo "make test: all passed"

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
		-DSAGESYNC_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) --label-exclude aws

fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
		-DSAGESYNC_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# static analysis over the compile database of the main build
lint: build
	cppcheck --project=$(BUILD)/compile_commands.json --error-exitcode=1 \
		--quiet --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -i tests

format:
	clang-format -i $(SOURCES)

format-check: deps
	clang-format --dry-run -Werror $(SOURCES)

bench: build
	sh tests/bench/validate/run.sh $(BUILD)/sagesync
	sh tests/bench/reconcile/run.sh $(BUILD)/sagesync

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

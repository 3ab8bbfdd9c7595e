# Thin wrapper over CMake. `make run` and `make test` install what is missing first.
# `make build`/`make test` build everything; `make run` only the CLI (`knee`) that the default
# study needs, its build output in $(RUN_LOG) (the tail shown if it fails).
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=
PYTHON   ?= /usr/bin/python3
RUN_LOG  ?= $(BUILD)/make-run.log
CONFIGURE = cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

.PHONY: all deps configure build test run bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	@scripts/install-deps.sh
	$(CONFIGURE)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/install-deps.sh --test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Configured as for `make build` (so `make test` later reuses the tree), but only --target knee.
run: deps
	@mkdir -p $(BUILD)
	@echo "knee: building $(BUILD)/knee only (log: $(RUN_LOG))"
	@{ { test -f $(BUILD)/CMakeCache.txt || $(CONFIGURE); } && \
	   cmake --build $(BUILD) -j $(JOBS) --target knee; } >$(RUN_LOG) 2>&1 || \
	 { echo "knee: the build failed; the end of $(RUN_LOG):" >&2; tail -n 30 $(RUN_LOG) >&2; exit 1; }
	@PYTHON=$(PYTHON) scripts/run-default.sh $(BUILD)

bench: deps build
	@scripts/run-bench.sh $(BUILD)

fuzz: deps
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DKNEE_FUZZ=ON
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_json_loaders

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz

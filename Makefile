# Thin wrapper over CMake. `make run` and `make test` install what is missing first.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=
PYTHON   ?= /usr/bin/python3

.PHONY: all deps configure build test run bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	@scripts/install-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/install-deps.sh --test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: deps build
	@scripts/run-default.sh $(BUILD)

bench: deps build
	@scripts/run-bench.sh $(BUILD)

fuzz: deps
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DKNEE_FUZZ=ON
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_json_loaders

clean:
	rm -rf $(BUILD) $(BUILD)-fuzz

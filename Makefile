# The two commands: `make run` (main job on a built-in default) and `make test`.
# Both install missing Debian packages and build as needed.
BUILD ?= build
JOBS ?= 2
DISAGG := $(BUILD)/disagg

.PHONY: all deps configure build run test bench format clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(DISAGG) estimate --model llama-3.1-70b --system h200_sxm --precision fp8 \
	  --isl 4096 --osl 512 --tp 4 --batch 64 --phase decode

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	$(BUILD)/disagg_bench

format:
	@clang-format -i $$(find src bench -name '*.h' -o -name '*.cc')

clean:
	rm -rf $(BUILD)

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
	@cmake --build $(BUILD) -j$(JOBS) -- --no-print-directory

# The study's default: DeepSeek-R1 on GB200 NVL72, FP4, ISL 16384 / OSL 2048.
run: build
	@mkdir -p out
	$(DISAGG) frontier --model deepseek-r1 --system gb200 --precision fp4 \
	  --isl 16384 --osl 2048 --plot out/frontier.svg --csv out/frontier.csv

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	$(BUILD)/disagg_bench
	@echo "default study, timed:" && time $(DISAGG) frontier --model deepseek-r1 --system gb200 \
	  --precision fp4 --isl 16384 --osl 2048 --json > /dev/null

format:
	@clang-format -i $$(find src bench -name '*.h' -o -name '*.cc')

clean:
	rm -rf $(BUILD)

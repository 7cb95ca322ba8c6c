# hcm - top-level convenience targets. CMake is the one build graph; this
# file only names the common jobs. Each job has its own build directory.
#
#   make demo    live demo: a C talker, a C listener and a Python listener (~4 s)
#   make test    build and run every test
#   make check   C tests and pytest under ASan+UBSan, the threaded ring tests under TSan
#   make bench   benchmarks with same-run references (see docs/performance.md)

CMAKE      ?= cmake
GENERATOR  ?= $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?= --output-on-failure -j$(JOBS) --timeout 300

PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python

BUILD      := build
BUILD_ASAN := build-asan
BUILD_TSAN := build-tsan
BUILD_BENCH:= build-bench

.PHONY: all build python demo test test-c test-python check check-asan check-tsan bench install clean

all: build

build:
	$(CMAKE) -S . -B $(BUILD) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHCM_WERROR=ON
	$(CMAKE) --build $(BUILD) -j$(JOBS)

demo: build python
	HCM_DEMO_PYTHON=$(abspath $(VPY)) ./scripts/demo.sh $(BUILD)

test: test-c test-python

test-c: build
	ctest --test-dir $(BUILD) $(CTEST_ARGS)

# A project-local venv with the package (built by scikit-build-core from this
# CMake project, libhcm linked in statically) and its test dependencies.
$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	touch $@

python: $(VENV)/.created
	$(VPY) -m pip install -q ".[test]"

test-python: python
	$(VPY) -m pytest -q tests/python

check: check-asan check-tsan

# The C tests under ASan+UBSan, then pytest against the extension built with
# the same sanitizers (their runtimes preloaded into the interpreter; leak
# checking off there: CPython keeps memory until exit by design). The CLI
# tests there drive the ASan build of the hcm tool.
check-asan: python
	$(CMAKE) -S . -B $(BUILD_ASAN) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Debug -DHCM_WERROR=ON \
	  -DHCM_SANITIZE=address,undefined -DHCM_BUILD_BENCH=OFF -DHCM_BUILD_PYTHON=ON \
	  -DPython_EXECUTABLE=$(abspath $(VPY))
	$(CMAKE) --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD_ASAN) $(CTEST_ARGS)
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  PYTHONPATH=$(BUILD_ASAN)/python HCM_CLI=$(abspath $(BUILD_ASAN))/tools/hcm \
	  $(VPY) -m pytest -q -p no:cacheprovider tests/python

check-tsan:
	$(CMAKE) -S . -B $(BUILD_TSAN) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Debug -DHCM_WERROR=ON \
	  -DHCM_SANITIZE=thread -DHCM_BUILD_BENCH=OFF -DHCM_BUILD_EXAMPLES=OFF
	$(CMAKE) --build $(BUILD_TSAN) -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(BUILD_TSAN) $(CTEST_ARGS) -L tsan

bench: python
	$(CMAKE) -S . -B $(BUILD_BENCH) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=Release -DHCM_BUILD_TESTS=OFF
	$(CMAKE) --build $(BUILD_BENCH) -j$(JOBS)
	./$(BUILD_BENCH)/bench/hcm_bench
	$(VPY) -m pip install -q iceoryx2 pyzmq || echo "bench: peers not installed (their rows print n/a)"; $(VPY) bench/python/bench_py.py

install: build
	$(CMAKE) --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_BENCH) build/py $(VENV)

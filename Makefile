# projntk build. `make test` and `make demo` work on a fresh Debian machine as root.
SHELL := /bin/bash
.DEFAULT_GOAL := build

JAVA_HOME ?= /usr/lib/jvm/temurin-25-jdk-amd64
export JAVA_HOME
.PHONY: java-check
java-check:
	@test -x "$(JAVA_HOME)/bin/javac" || { echo "JAVA_HOME=$(JAVA_HOME) has no javac: install the Temurin 25 JDK or set JAVA_HOME to a JDK >= 25" >&2; exit 1; }
JAVA := $(JAVA_HOME)/bin/java
MVN := mvn -B -q
ARGS ?=

BUILD := build
NATIVE_OUT := $(BUILD)/native
LIB := $(NATIVE_OUT)/libprojntk.so

# ------------------------------------------------------------------ packages
# What `make demo` and `make test` need, by names every Debian release since 12 has (libtorch 1.13 on 12, 2.6 on 13).
DEB_PACKAGES := libtorch-dev libopenblas0-pthread libopenblas-dev dataset-fashion-mnist g++ maven fortunes
# Only `make bindings` reads headers through libclang: the release's default version.
BINDINGS_PACKAGES := libclang-dev
.PHONY: deps
deps:
	@scripts/install-deps.sh $(DEB_PACKAGES)

# -------------------------------------------------------------------- native
# WITH_CUDA=1 links the CUDA kernels into libprojntk.so (needs a CUDA libtorch and libcudart).
WITH_CUDA ?= 0
# Which libtorch and whether CUDA is linked: a change of either rebuilds the native objects.
BUILD_CONFIG := LIBTORCH=$(LIBTORCH) LIBTORCH_USE_PYTORCH=$(LIBTORCH_USE_PYTORCH) WITH_CUDA=$(WITH_CUDA)
CONFIG_STAMP := $(BUILD)/config.stamp
$(shell mkdir -p $(BUILD); echo '$(BUILD_CONFIG)' | cmp -s - $(CONFIG_STAMP) || echo '$(BUILD_CONFIG)' > $(CONFIG_STAMP))
TORCH_VARS := $(BUILD)/torch.mk
# Make remakes this included file before any goal runs, so it installs the packages itself: on a fresh machine
# libtorch is only there once `deps` has run.
$(TORCH_VARS): scripts/find-libtorch.sh $(CONFIG_STAMP)
	@mkdir -p $(BUILD)
	@scripts/install-deps.sh $(DEB_PACKAGES)
	scripts/find-libtorch.sh > $@.tmp && mv $@.tmp $@
-include $(TORCH_VARS)

CXX ?= g++
NVCC ?= $(wildcard /usr/local/cuda/bin/nvcc)
CUDA_GENCODE := -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
CUDA_HOME ?= /usr/local/cuda
CUDA_LIB ?= $(CUDA_HOME)/lib64

# The C++ standard of the native sources; libtorch 2.12 and later need c++20 (scripts/device-check.sh picks it).
CXX_STD ?= c++17
CXXFLAGS := -std=$(CXX_STD) -O3 -fPIC -fopenmp -march=x86-64-v2 -mtune=generic -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra -Wno-unused-parameter \
  -D_GLIBCXX_USE_CXX11_ABI=$(TORCH_ABI) -Inative/include -Inative/common -Inative/jl $(TORCH_INC)
# An rpath only for a libtorch outside the loader's default paths (LIBTORCH=..., PyTorch's own): Debian's needs none,
# so the library that ships in the jar holds no path of the build machine.
TORCH_RPATH := $(if $(filter /usr/lib/$(shell gcc -dumpmachine) /usr/lib /usr/lib64,$(TORCH_LIB)),,-Wl,-rpath,$(TORCH_LIB))
LDFLAGS := -shared -fopenmp -Wl,--version-script=native/common/exports.map $(TORCH_RPATH) -L$(TORCH_LIB) \
  -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 -Wl,--as-needed

CPP_SOURCES := $(wildcard native/common/*.cpp native/torch/*.cpp native/jl/*.cpp native/kernel/*.cpp)
CU_SOURCES := $(wildcard native/jl/*.cu)
CPP_OBJECTS := $(patsubst native/%.cpp,$(NATIVE_OUT)/obj/%.o,$(CPP_SOURCES))
CU_OBJECTS := $(patsubst native/%.cu,$(NATIVE_OUT)/cuobj/%.o,$(CU_SOURCES))

ifeq ($(WITH_CUDA),1)
CXXFLAGS += -DPROJNTK_WITH_CUDA -isystem $(CUDA_HOME)/include
LINK_CUDA := $(CU_OBJECTS) -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed -L$(CUDA_LIB) -Wl,-rpath,$(CUDA_LIB) -lcudart
NVCC_DEFS := -DPROJNTK_WITH_CUDA
endif

# What ships runs on any x86-64-v2 CPU: only the AVX2 kernels are compiled for AVX2 (cpu_avx512.cpp sets its own
# target), and projector.cpp and thin_gemm.cpp pick them at run time.
$(NATIVE_OUT)/obj/jl/cpu_avx2.o: CXXFLAGS += -mavx2 -mfma -mf16c
$(NATIVE_OUT)/obj/kernel/thin_gemm_avx2.o: CXXFLAGS += -mavx2 -mfma

$(NATIVE_OUT)/obj/%.o: native/%.cpp $(TORCH_VARS)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(NATIVE_OUT)/cuobj/%.o: native/%.cu
	@mkdir -p $(dir $@)
	$(NVCC) -std=c++17 -O3 -Xcompiler -fPIC $(CUDA_GENCODE) $(NVCC_DEFS) -Inative/include -Inative/common -Inative/jl -c $< -o $@

$(LIB): $(CPP_OBJECTS) $(if $(filter 1,$(WITH_CUDA)),$(CU_OBJECTS)) native/common/exports.map
	$(CXX) -o $@ $(CPP_OBJECTS) $(LINK_CUDA) $(LDFLAGS)

-include $(CPP_OBJECTS:.o=.d)

# Native test programs: each native/tests/NAME.cpp is linked with the library's objects (not the .so, which exports
# only projntk_*, while the tests also check internals) and exits non-zero on failure.
NATIVE_TESTS := $(patsubst native/tests/%.cpp,$(NATIVE_OUT)/tests/%,$(wildcard native/tests/*.cpp))
EXE_LDFLAGS := -fopenmp -Wl,-rpath,$(TORCH_LIB) -L$(TORCH_LIB) -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 -Wl,--as-needed
$(NATIVE_OUT)/tests/%: native/tests/%.cpp $(CPP_OBJECTS) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $< $(CPP_OBJECTS) -o $@ $(LINK_CUDA) $(EXE_LDFLAGS)

.PHONY: native-test native-test-bins
native-test-bins: $(NATIVE_TESTS)
native-test: $(NATIVE_TESTS) check-exports
	@set -e; for t in $(NATIVE_TESTS); do echo "== $$t"; OMP_NUM_THREADS=2 $$t; done

# The shipped library exports projntk_* only (nm -D --defined-only).
.PHONY: check-exports
check-exports: $(LIB)
	@extra=$$(nm -D --defined-only $(LIB) | awk '{print $$3}' | grep -v '^projntk_' || true); \
	if [ -n "$$extra" ]; then echo "$(LIB) exports more than projntk_*:" >&2; echo "$$extra" | head >&2; exit 1; fi; \
	echo "$(LIB) exports $$(nm -D --defined-only $(LIB) | wc -l) symbols, all projntk_*"

.PHONY: native cuda-check native-objects-cuda native-objects-torch
native: $(LIB)
# Compile-only sets for scripts/device-check.sh --rehearse (no link): the objects that differ under WITH_CUDA=1 (the .cu
# kernels and the C++ sources with PROJNTK_WITH_CUDA sections), and the sources that include libtorch.
CUDA_SENSITIVE_OBJECTS := $(patsubst native/%.cpp,$(NATIVE_OUT)/obj/%.o,$(shell grep -l PROJNTK_WITH_CUDA $(CPP_SOURCES) 2>/dev/null))
native-objects-cuda: $(CU_OBJECTS) $(CUDA_SENSITIVE_OBJECTS)
native-objects-torch: $(filter $(NATIVE_OUT)/obj/torch/%,$(CPP_OBJECTS))
# Compiles the CUDA sources without linking, so CI catches a build break without a GPU. Without nvcc it says that it
# skips, and why.
ifeq ($(strip $(NVCC)),)
cuda-check:
	@echo "cuda-check: skipped: no nvcc (looked for /usr/local/cuda/bin/nvcc; set NVCC=/path/to/nvcc to compile the CUDA sources)"
else
cuda-check: $(CU_OBJECTS)
	@echo "cuda-check: $(words $(CU_OBJECTS)) CUDA sources compile with $(NVCC)"
endif

# ------------------------------------------------------------------ bindings
BINDGEN := scripts/bindgen/BindGen.java
.PHONY: bindings check-bindings
.PHONY: bindings-deps
bindings-deps: deps
	@scripts/install-deps.sh $(BINDINGS_PACKAGES)

bindings: bindings-deps java-check
	scripts/bindings.sh bindings/java

check-bindings: bindings-deps java-check
	@rm -rf $(BUILD)/bindings-check && mkdir -p $(BUILD)/bindings-check
	scripts/bindings.sh $(BUILD)/bindings-check
	@diff -r bindings/java $(BUILD)/bindings-check || { echo "bindings/ drifted from the headers: run 'make bindings'" >&2; exit 1; }
	@echo "bindings are up to date"

# ---------------------------------------------------------------------- java
JAVA_SOURCES := $(shell find src/main bindings/java -name '*.java' 2>/dev/null) pom.xml
JAR := target/projntk-0.1.0.jar
$(JAR): $(JAVA_SOURCES) | java-check
	$(MVN) package -DskipTests
	@touch $@

.PHONY: build jar install test test-gpu demo demo-full clean
jar: $(JAR)
build: deps native cuda-check $(JAR)

# maven-javadoc-plugin's up-to-date check does not look below the source root's top level, so it skips javadoc (and
# its doclint check) after a change to any source file (apache/maven-javadoc-plugin#1324): forget its state first.
JAVADOC_STATE := target/maven-javadoc-plugin-stale-data.txt

# org.projntk:projntk into the local Maven repository, with libprojntk.so inside the jar.
install: build
	rm -f $(JAVADOC_STATE)
	$(MVN) install -DskipTests

test: build native-test
	mvn -B test
	rm -f $(JAVADOC_STATE)
	$(MVN) install -DskipTests && mvn -B -f src/spark/pom.xml test

# The Spark module (src/spark, org.projntk:projntk-spark) for bin/projntk-spark; see docs/spark.md.
.PHONY: spark-jar
spark-jar: install
	$(MVN) -f src/spark/pom.xml package -DskipTests

# Models saved by PyTorch 2.x (Debian 13's python3-torch, or python3's own torch >= 2) against torch.func's per-example
# gradients, on both gradient paths of this build (scripts/pytorch2/, PyTorch2ModelsTest). The fixtures are generated.
PYTORCH2_FIXTURES := $(BUILD)/pytorch2-fixtures
.PHONY: pytorch2-fixtures check-pytorch2
pytorch2-fixtures:
	scripts/pytorch2/fixtures.sh $(PYTORCH2_FIXTURES)
check-pytorch2: build pytorch2-fixtures
	PROJNTK_PYTORCH2_FIXTURES=$(abspath $(PYTORCH2_FIXTURES)) PROJNTK_PYTORCH2_REQUIRED=1 \
	  mvn -B -q test -Dtest=PyTorch2ModelsTest -Dsurefire.failIfNoSpecifiedTests=false

test-gpu: build
	$(MVN) -Pgpu test

demo: build
	bin/projntk demo $(ARGS)

# The text classifier end to end (fortunes corpus, builtin:text-transformer); see README.
.PHONY: demo-text
demo-text: build
	bin/projntk demo --task text $(ARGS)

# The paper-sized Fashion-MNIST job (all 70,000 images); see README.
demo-full: build
	bin/projntk demo --full $(ARGS)

# ---------------------------------------------------------------- benchmarks
.PHONY: bench bench-quick
BENCH_JAR := benchmarks/target/benchmarks.jar
$(BENCH_JAR): $(JAR) $(shell find benchmarks/src -name '*.java' 2>/dev/null) benchmarks/pom.xml
	$(MVN) install -DskipTests
	$(MVN) -f benchmarks/pom.xml package
bench: build $(BENCH_JAR)
	scripts/bench.sh full
bench-quick: build $(BENCH_JAR)
	scripts/bench.sh quick

# ------------------------------------------------------------------- device
.PHONY: device-bundle
device-bundle: build $(BENCH_JAR)
	scripts/device-bundle.sh

clean:
	rm -rf $(BUILD) target benchmarks/target

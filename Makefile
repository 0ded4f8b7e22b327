# The one source of truth for building, testing and benchmarking; CI calls `make test`.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 10s
FUZZPARALLEL ?= 1
FUZZMINIMIZE ?= 5s
FUZZ      ?= .
FUZZPKGS  ?= ./fuzz $(PKGS)
BENCHTIME ?= 1s
BENCHCOUNT ?= 5
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all demo test test-contrib test-short bench bench-check bench-baseline bench-compare bench-compare-short fuzz lint vet fmt-check staticcheck tidy-check build-all clean

all: lint test

## demo: run the main demonstration
demo:
	GO=$(GO) ./examples/demo.sh

## test: the full test suite with the race detector (what CI runs)
test: test-contrib
	$(GO) vet $(PKGS)
	$(GO) test -race -shuffle=on -timeout 8m $(PKGS)
	# allocation counts and heap sizes are only meaningful without the race detector
	$(GO) test -count=1 -run 'Allocs|MemoryReturns' $(PKGS)

## test-contrib: the modules of their own under contrib/ (the Prometheus collector)
CONTRIB := contrib/prometheus

test-contrib:
	@set -e; for m in $(CONTRIB); do \
	  echo "== $$m"; \
	  (cd $$m && $(GO) vet ./... && $(GO) test -race ./...); \
	done

test-short:
	$(GO) test -short $(PKGS)

## bench: package benchmarks (root kernel, pool, wire, frame, transport)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) $(PKGS)

## fuzz: run every Fuzz* target for FUZZTIME each: the cross-package drivers
## in fuzz/ first, then every package's own (several per package are fine).
## FUZZ=<regexp> picks targets by name, FUZZPARALLEL the fuzzing workers,
## FUZZMINIMIZE the minimization time per new input; the fuzzers run at the
## lowest CPU priority. See fuzz/README.md.
fuzz:
	@set -e; for pkg in $$($(GO) list $(FUZZPKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' | grep -E '$(FUZZ)' || true); do \
	    echo "== $$pkg $$f"; \
	    nice -n 19 $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -parallel $(FUZZPARALLEL) $$pkg; \
	  done; \
	done

## lint: go vet, gofmt check, staticcheck, go.mod tidy, every platform builds
lint: vet fmt-check staticcheck tidy-check build-all

vet:
	$(GO) vet $(PKGS)

tidy-check:
	$(GO) mod tidy -diff
	@set -e; for m in $(CONTRIB); do (cd $$m && $(GO) mod tidy -diff); done

## build-all: build and vet (tests included) for every supported platform:
## netpoll and sonic's native path exist only on some (docs/transport.md)
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 linux/386 linux/arm

build-all:
	@set -e; for p in $(PLATFORMS); do \
	  echo "== $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build $(PKGS); \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) vet $(PKGS); \
	done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)
	@set -e; for m in $(CONTRIB); do (cd $$m && $(STATICCHECK) ./...); done

## bench-check: compare the core benchmarks with the committed baseline; fails on a regression
CORE_BENCH := ^Benchmark(Local1to1|Local2to2|Channel1to1|Channel2to2|RemoteOneWay|RawTCPOneWay|RemotePingPong|RawTCPPingPong)$$
BENCHSTAT  := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_TOL  ?= 0.30

bench-check:
	$(GO) test -run '^$$' -bench '$(CORE_BENCH)' -benchtime 1s -count 6 . | tee bench/current.txt
	-$(GO) run $(BENCHSTAT) bench/baseline.txt bench/current.txt
	$(GO) run ./internal/benchcheck -baseline bench/baseline.txt -current bench/current.txt -tol $(BENCH_TOL)

## bench-baseline: record a new baseline for bench-check (commit bench/baseline.txt)
bench-baseline:
	$(GO) test -run '^$$' -bench '$(CORE_BENCH)' -benchtime 1s -count 6 . | tee bench/baseline.txt

## bench-compare: side-by-side benchmarks against NATS, protoactor-go and raw baselines
bench-compare:
	$(MAKE) -C bench compare BENCH_COMMAND="make bench-compare"

bench-compare-short:
	$(MAKE) -C bench compare-short BENCH_COMMAND="make bench-compare-short"

clean:
	$(GO) clean -testcache

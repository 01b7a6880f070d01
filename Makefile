# onair: `make run` sets up and starts the server, `make test` sets up and runs
# every test. `make help` lists the rest.

GO        ?= go
BIN       := bin/onair
TEST_TIMEOUT ?= 20m

.DEFAULT_GOAL := help

.PHONY: help deps build run test vet fuzz bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the missing Debian packages (FFmpeg 5.1, libsrt, ffmpeg, GStreamer, Chromium) and the player test's npm packages
	@./scripts/deps.sh

build: deps ## build bin/onair
	$(GO) build -o $(BIN) ./cmd/onair

run: build ## set up, build and start `onair serve` (data in ./onair-data; flags in ARGS="…")
	./$(BIN) serve $(ARGS)

vet: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps vet ## set up, then run the whole test suite
	$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./...

fuzz: deps ## run each fuzz target for a short while (FUZZTIME, default 20s)
	@./scripts/fuzz.sh $${FUZZTIME:-20s}

bench: build ## every benchmark: ladder vs ffmpeg, edge vs nginx, playback delay, LL-HLS parts, restream CPU
	@./scripts/bench.sh

clean: ## remove build outputs
	rm -rf bin

# fhirhub — see README.md. `make run` runs the server, `make test` passes the tests.

GO      ?= go
BIN     := bin/fhirhub
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Test packages run in parallel, each with its own private PostgreSQL.
TESTFLAGS ?= -count=1 -timeout 45m

.PHONY: run build test vet bench fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fhirhub

run: build
	./scripts/ensure-postgres.sh
	$(BIN) serve

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

test: vet
	./scripts/ensure-postgres.sh
	$(GO) test $(TESTFLAGS) ./...

# Benchmarks print each figure beside the baseline measured in the same run.
bench:
	./scripts/ensure-postgres.sh
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

# Short fuzzing sessions of every fuzz target (FUZZTIME each).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin

# voxmine — `make demo` runs the whole job on a synthetic dataset,
# `make test` is what CI runs.
GO      ?= go
DEMO    ?= demo-out
BIN     := bin

.PHONY: test demo build fmt bench clean

build:
	$(GO) build -o $(BIN)/ ./cmd/...

test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -timeout 15m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) $(DEMO)

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

# The whole job on a synthetic dataset: generate, ingest, mine.
demo: build
	rm -rf $(DEMO)
	$(BIN)/ingest --synthetic 4 --seed 1 --src $(DEMO)/luna16 --out $(DEMO)/store --workers 2
	$(BIN)/mine info --store $(DEMO)/store
	$(BIN)/mine negatives --store $(DEMO)/store --out $(DEMO)/negatives --per-scan 16 --seed 1 \
		--preview $(DEMO)/negatives.png --pack
	$(BIN)/mine positives --store $(DEMO)/store --out $(DEMO)/positives --copies 2 --jitter 3 --seed 1 \
		--preview $(DEMO)/positives.png
	$(BIN)/mine candidates --store $(DEMO)/store --out $(DEMO)/hard --class 0 --per-scan 8 --min-dist-to-nodule 10
	$(BIN)/mine dataset --store $(DEMO)/store --out $(DEMO)/train --negatives-per-positive 3 --hard-fraction 0.5
	@echo
	@echo "demo outputs:"
	@echo "  synthetic LUNA16-like dataset  $(DEMO)/luna16   (truth.json: what was drawn)"
	@echo "  voxmine store (Zarr v3)        $(DEMO)/store"
	@echo "  negatives + preview            $(DEMO)/negatives  $(DEMO)/negatives.png"
	@echo "  positives + preview            $(DEMO)/positives  $(DEMO)/positives.png"
	@echo "  hard negatives                 $(DEMO)/hard"
	@echo "  training set (index.csv)       $(DEMO)/train"

clean:
	rm -rf $(BIN) $(DEMO)

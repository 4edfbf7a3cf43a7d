# voxmine — `make demo` runs the whole job on a synthetic dataset,
# `make test` is what CI runs.
GO      ?= go
DEMO    ?= demo-out
BIN     := bin
SHELL   := bash
# Packages whose code shares memory between goroutines (a worker pool, a
# lock, an atomic), and the commands that drive them: `make test` runs these
# under the race detector too. The decoders and readers are single-threaded
# and run at full speed only. A package that starts goroutines joins this list.
RACE_PKGS := ./store/... ./ingest ./ingest/lungseg ./ingest/resample ./ingest/dicom ./ingest/synth ./internal/workpool ./mine ./cmd/...
# Fixture generators live under testdata/, which ./... leaves out: vet them by name.
FIXTURE_TOOLS := ./testdata/itkresample/gen ./testdata/itkresample/gendicom ./testdata/itkresample/gennifti ./ingest/dicom/testdata/gencompressed

.PHONY: test demo build fmt bench clean cross pytest

build:
	$(GO) build -o $(BIN)/ ./cmd/...

test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./... $(FIXTURE_TOOLS)
	$(GO) build -o $(BIN)/testsummary ./internal/tools/testsummary
	$(MAKE) --no-print-directory pytest
	@# Two passes (internal/testenv): the concurrent packages' tests under the
	@# race detector, except the compute-heavy ones, then every test at full speed.
	set -o pipefail; $(GO) test -race -json -timeout 10m $(RACE_PKGS) | $(BIN)/testsummary -title race
	set -o pipefail; $(GO) test -json -timeout 10m ./... | $(BIN)/testsummary -title full-speed

# The Python package (python/) against the real commands, with Debian's
# Python, numpy and torch (.ci/run installs them). In CI a missing torch
# fails rather than skips.
PYTHON ?= /usr/bin/python3
pytest: build
	VOXMINE_BIN=$(CURDIR)/$(BIN) VOXMINE_REQUIRE_TORCH=$${CI:+1} $(PYTHON) -m unittest discover -s python/tests

# Build and vet for the systems researchers use besides Linux. The platform
# files differ by OS only (lock_windows.go, os_other.go), so one target per OS
# covers them: four targets cost CI about 40 s more with a cold build cache.
cross:
	@for t in darwin/arm64 windows/amd64; do \
	  echo "build+vet $$t"; \
	  GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./... && GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./... || exit 1; \
	done

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
	$(BIN)/mine negatives --store $(DEMO)/store --out $(DEMO)/hardspots --per-scan 8 --seed 1 --hardness mix:0.5 \
		--preview $(DEMO)/hardspots.png
	$(BIN)/mine dataset --store $(DEMO)/store --out $(DEMO)/train --negatives-per-positive 3 --hard-fraction 0.5
	$(BIN)/mine split --store $(DEMO)/store --out $(DEMO)/splits --parts train:0.75,test:0.25 --seed 1
	$(BIN)/mine info --store $(DEMO)/store --csv > $(DEMO)/scans.csv
	@# A stream as a training loop reads it (here into a file, to look at): epoch 1's
	@# negatives, rotated and scaled from the store, with lung labels beside each cube.
	$(BIN)/mine stream negatives --store $(DEMO)/store --per-scan 4 --seed 1 --epoch 1 --aug-rotate 20 \
		--aug-scale 0.9,1.1 --labels > $(DEMO)/stream-epoch1.tar
	@echo
	@echo "demo outputs:"
	@echo "  synthetic LUNA16-like dataset  $(DEMO)/luna16   (truth.json: what was drawn)"
	@echo "  voxmine store (Zarr v3)        $(DEMO)/store"
	@echo "  negatives + preview            $(DEMO)/negatives  $(DEMO)/negatives.png"
	@echo "  positives + preview            $(DEMO)/positives  $(DEMO)/positives.png"
	@echo "  hard negatives (candidates)    $(DEMO)/hard"
	@echo "  hard negatives (blob spots)    $(DEMO)/hardspots  $(DEMO)/hardspots.png"
	@echo "  training set (index.csv)       $(DEMO)/train"
	@echo "  train/test uid lists (--uids)  $(DEMO)/splits"
	@echo "  the scan table (pandas, DuckDB) $(DEMO)/scans.csv"
	@echo "  a stream's epoch 1 (tar)       $(DEMO)/stream-epoch1.tar   (in Python: docs/TRAINING.md)"

clean:
	rm -rf $(BIN) $(DEMO)

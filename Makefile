# Two commands matter: `make run` (the embedded default on :8080, no services needed) and `make test`
# (everything, against real PostgreSQL, Azurite, SoftHSM2, Chromium, pdfsig/qpdf; installs what is
# missing when run as root on Debian).
GO          ?= go
GOTESTFLAGS ?= -race
TESTTIMEOUT ?= 20m
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
export CGO_ENABLED := 1

.PHONY: run build test deps tools assets generate check-generated lint unit bench attack

run: assets
	@echo "Starting the embedded default (SQLite + local folder in $${DATA_DIR:-./data})."
	@echo "Create an API key in another terminal: go run . apikey create --application my-app"
	$(GO) run . serve

build: assets
	$(GO) build -o bin/esign .

# Node packages (GraphiQL assets, the official SDK, Azurite), pinned by tools/package-lock.json.
tools:
	@if command -v npm >/dev/null 2>&1; then \
	  if [ ! -f tools/node_modules/.installed-lock ] || ! cmp -s tools/package-lock.json tools/node_modules/.installed-lock; then \
	    (cd tools && npm ci --no-audit --no-fund --loglevel=error) && cp tools/package-lock.json tools/node_modules/.installed-lock; \
	  fi; \
	else echo "npm not found: GraphiQL will say its assets are missing (apt-get install npm, then make assets)"; fi

assets: tools
	@if [ -d tools/node_modules/graphiql ]; then bash scripts/graphiql-assets.sh; fi
	@if [ -d tools/node_modules/pdfjs-dist ]; then bash scripts/signui-assets.sh; fi

generate:
	$(GO) tool gqlgen generate

# Generated code must match the schema and gqlgen.yml exactly.
check-generated:
	$(GO) tool gqlgen generate
	git diff --exit-code -- graph/ || (echo "generated code is stale: run make generate and commit" >&2; exit 1)

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

deps:
	bash scripts/deps.sh

test: deps assets check-generated lint
	$(GO) test $(GOTESTFLAGS) -count=1 -timeout $(TESTTIMEOUT) ./...

unit:
	$(GO) test $(GOTESTFLAGS) -short ./...

bench: deps assets
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 20x ./...

# The hostile requests of issue 9 against a fresh embedded server of this build: peak RSS and another
# application's p50/p99 for each (a Markdown table). Loopback only, bounded in count and time.
attack: build
	$(GO) run ./tools/attack -bin bin/esign

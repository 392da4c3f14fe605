# Everything a fresh machine needs, from Python 3.10+, git and make alone.
#
#   make demo       install, start the local platform, log the examples
#   make down       stop the platform that `make demo` started
#   make test       install, lint, and run the test suite
#   make test-huge  the multi-GB cases
#
# The first Python 3.10 or newer on PATH is used; set PYTHON to choose one.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11 python3.10; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && \
	{ echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= $(CURDIR)/.lodestar-data
PORT ?= 8080
URL := http://127.0.0.1:$(PORT)

.PHONY: install browser demo down status test test-huge lint proto clean

install: $(STAMP)

# The SDK is installed in compat mode, which puts sdk/ itself on sys.path as a
# plain install would, so a ./lodestar/ run folder beside a script cannot
# shadow the package.

$(STAMP): pyproject.toml sdk/pyproject.toml
	@test -n "$(PYTHON)" || { echo "Lodestar needs Python 3.10 or newer on PATH" \
		"(or PYTHON=/path/to/python3)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "could not" \
		"create a virtualenv; on Debian/Ubuntu: apt-get install python3-venv"; \
		exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e sdk --config-settings editable_mode=compat
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

proto: install
	$(BIN)/python -m grpc_tools.protoc -I proto --python_out=sdk --pyi_out=sdk \
		--grpc_python_out=sdk proto/lodestar/_proto/events.proto \
		proto/lodestar/_proto/ingest.proto
	rm -f sdk/lodestar/_proto/events_pb2_grpc.py

# Starts the platform unless it already runs, logs both examples, and leaves
# the platform running. The first start stores an API key in ~/.netrc. A
# platform already running on DATA_DIR is used on its own port, whatever PORT.
demo: install
	@$(BIN)/lodestar server status --url --data-dir $(DATA_DIR) >/dev/null 2>&1 || \
		$(BIN)/lodestar server start --detach --port $(PORT) --data-dir $(DATA_DIR)
	@url=$$($(BIN)/lodestar server status --url --data-dir $(DATA_DIR)) || exit 1; \
	if [ "$$url" != "$(URL)" ]; then echo "The platform of $(DATA_DIR) already" \
		"runs at $$url; using it (make down first to start it on port $(PORT))"; fi; \
	set -x; \
	LODESTAR_BASE_URL=$$url $(BIN)/python examples/quickstart.py && \
	LODESTAR_BASE_URL=$$url $(BIN)/python examples/train_digits.py && \
	{ set +x; } 2>/dev/null && \
	$(BIN)/lodestar server status --data-dir $(DATA_DIR) && echo && \
	echo "Dashboard: $$url   (stop the platform with: make down)"

down:
	@if [ -x $(BIN)/lodestar ]; then \
		$(BIN)/lodestar server stop --data-dir $(DATA_DIR) || true; fi

status:
	$(BIN)/lodestar server status --data-dir $(DATA_DIR)

# The dashboard's tests drive a real Chromium: the machine's own, else Debian's
# package where apt-get and root are there (as in CI), else Playwright's download.
browser: install
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser \
		>/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get \
		>/dev/null 2>&1 && apt-get update -q && apt-get install -y -q chromium; } \
		|| $(BIN)/python -m playwright install chromium

test: install browser
	$(BIN)/ruff check .
	$(BIN)/mypy sdk/lodestar services
	$(BIN)/python -m pytest -q

test-huge: install
	$(BIN)/python -m pytest -q -m huge

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy sdk/lodestar services

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

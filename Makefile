# Everything a fresh machine needs, from Python, git and make alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= $(CURDIR)/.lodestar-data
PORT ?= 8080

.PHONY: install demo down test test-huge lint proto bench clean

install: $(STAMP)

$(STAMP): pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e sdk -e ".[test]"
	touch $(STAMP)

proto: install
	$(BIN)/python -m grpc_tools.protoc -I proto --python_out=sdk --pyi_out=sdk \
		--grpc_python_out=sdk proto/lodestar/_proto/events.proto \
		proto/lodestar/_proto/ingest.proto
	rm -f sdk/lodestar/_proto/events_pb2_grpc.py

demo: install
	$(BIN)/lodestar server start --detach --port $(PORT) --data-dir $(DATA_DIR)
	LODESTAR_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/python examples/quickstart.py
	LODESTAR_BASE_URL=http://127.0.0.1:$(PORT) $(BIN)/python examples/train_digits.py
	@$(BIN)/lodestar server status --data-dir $(DATA_DIR)

down:
	-$(BIN)/lodestar server stop --data-dir $(DATA_DIR)

test: install
	$(BIN)/python -m pytest -q

test-huge: install
	$(BIN)/python -m pytest -q -m huge

lint: install
	$(BIN)/ruff check sdk services tests benchmarks examples
	$(BIN)/mypy sdk/lodestar services

clean:
	rm -rf $(VENV) .pytest_cache

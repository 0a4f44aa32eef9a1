# Tillpoint: `make run` sets everything up and starts the demo store server;
# `make test` runs the whole suite. Every other target is a step of those two.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
GEN_STAMP := gen/.stamp
PROTOS := $(wildcard proto/tillpoint/v1/*.proto)
CONFIG ?= config/store.demo.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv proto demo run test lint bench clean distclean system-deps receipt-demo labels

venv: $(STAMP)

# Debian's python3 ships without ensurepip; install python3-venv when missing.
$(STAMP): requirements.txt pyproject.toml
	@$(PY) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "== installing python3-venv (Debian)"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	@# The generated stubs live in gen/ (never committed); make them importable.
	@echo "$(CURDIR)/gen" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tillpoint-gen.pth"
	@touch $@

proto: $(GEN_STAMP)

$(GEN_STAMP): $(PROTOS) $(STAMP)
	rm -rf gen && mkdir -p gen
	$(BIN)/python -m grpc_tools.protoc -Iproto --python_out=gen --pyi_out=gen \
	  --grpc_python_out=gen $(PROTOS)
	touch gen/tillpoint/__init__.py gen/tillpoint/v1/__init__.py
	@touch $@

# Creates the demo store under var/ once; later runs keep its data.
demo: $(GEN_STAMP)
	$(BIN)/storectl --config $(CONFIG) demo --if-missing

run: system-deps demo
	exec $(BIN)/python -m store_server --config $(CONFIG)

# With `make run` serving in another terminal: sell a demo basket and print its
# receipt to a simulated printer (var/receipts/*.txt, *.png, *.bin) ...
receipt-demo: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.printing --server 127.0.0.1:50051 --operator 1001 --pin 1111 \
	  --device demo-till --out var/receipts

# ... and print the shelf labels that price changes queued (PNG previews in var/labels).
labels: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.label_printer --server 127.0.0.1:50051 --operator 1003 \
	  --pin 3333 --device label-01 --png-dir var/labels

lint: $(STAMP)
	$(BIN)/ruff check .

# Debian packages the product and its tests use: socat makes the serial devices'
# pseudo-terminals, fonts-wqy-zenhei prints Chinese on labels, libzbar0 lets
# the tests scan the barcodes they print.
DEBIAN_PACKAGES := socat fonts-wqy-zenhei libzbar0
system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "== installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

test: system-deps $(GEN_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(GEN_STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf gen .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var

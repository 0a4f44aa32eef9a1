# Tillpoint: `make run` sets everything up and starts the demo store server;
# `make test` runs the whole suite. Every other target is a step of those two.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
GEN_STAMP := gen/.stamp
PROTOS := $(wildcard proto/tillpoint/v1/*.proto) $(wildcard proto/tillpoint/hq/v1/*.proto)
CONFIG ?= config/store.demo.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv proto demo run test lint bench clean distclean system-deps receipt-demo labels \
	till screenshots \
	install install-venv install-units install-config install-user uninstall

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
	@if [ -d gen/tillpoint/hq ]; then touch gen/tillpoint/hq/__init__.py gen/tillpoint/hq/v1/__init__.py; fi
	@touch $@

# Creates the demo store under var/ once; later runs keep its data.
demo: $(GEN_STAMP)
	$(BIN)/storectl --config $(CONFIG) demo --if-missing

# `make run DEVICES=sim` also starts a simulated network receipt printer on
# SIM_PRINTER that files every receipt printed to it in var/receipts/ (.txt, .png
# and the raw ESC/POS .bin); `make receipt-demo DEVICES=sim` prints to it.
DEVICES ?=
SIM_PRINTER ?= 127.0.0.1:9100
ifneq ($(filter-out sim,$(DEVICES)),)
$(error DEVICES=$(DEVICES): the only simulated device set is DEVICES=sim)
endif

run: system-deps demo
ifeq ($(DEVICES),sim)
	exec $(BIN)/python -m clients.printing.sim_store --config $(CONFIG) \
	  --printer-listen $(SIM_PRINTER) --out var/receipts
else
	exec $(BIN)/python -m store_server --config $(CONFIG)
endif

# With `make run` serving in another terminal: sell a demo basket and print its
# receipt to a simulated printer (var/receipts/*.txt, *.png, *.bin); with
# DEVICES=sim, through the network to the one `make run DEVICES=sim` started;
# MEMBER=<card no> sells to that member (the receipt's member block) ...
receipt-demo: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.printing --server 127.0.0.1:50051 --operator 1001 --pin 1111 \
	  --device demo-till --out var/receipts $(if $(DEVICES),--printer network:$(SIM_PRINTER)) \
	  $(if $(MEMBER),--member $(MEMBER))

# ... and print the shelf labels that price changes queued (PNG previews and one
# PDF of the batch in var/labels).
labels: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.label_printer --server 127.0.0.1:50051 --operator 1003 \
	  --pin 3333 --device label-01 --png-dir var/labels --pdf var/labels/labels.pdf

# With `make run` serving in another terminal: the Kivy touch till on this
# screen (TILL_ARGS="--size 1920x1080 --lang en" for others) ...
TILL_ARGS ?=
till: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.kivy_pos.till --server 127.0.0.1:50051 --device till-01 \
	  $(if $(DEVICES),--printer network:$(SIM_PRINTER)) $(TILL_ARGS)

# The handheld stocktake counter (480x800) against the same local store server; its
# counts wait in var/counter-queue.db until the server has taken them.
.PHONY: counter
counter: system-deps $(GEN_STAMP)
	$(BIN)/python -m clients.kivy_pos.counter --server 127.0.0.1:50051 --device hh-01 $(COUNTER_ARGS)

# ... and PNGs of its screens in docs/screenshots/: a throwaway store, the till
# in a real window under Xvfb driven like a cashier (tests/kivy_pos/scenario.py).
screenshots: system-deps $(GEN_STAMP)
	$(BIN)/python -m tests.kivy_pos.scenario

# The HQ server for a demo (SQLite in var/hq.db) on 127.0.0.1:50061; a store ships
# to it with `python -m hq_link.agent --config <hq_link.toml>` (README: HQ link).
# Plaintext for the demo only (--insecure); a chain runs it with mTLS (hq.toml).
.PHONY: hq
hq: $(GEN_STAMP)
	exec $(BIN)/python -m hq_link.hq --listen 127.0.0.1:50061 --database sqlite:///var/hq.db --insecure

lint: $(STAMP)
	$(BIN)/ruff check .

# Debian packages the product and its tests use: socat makes the serial devices'
# pseudo-terminals, fonts-wqy-zenhei prints Chinese on labels, libzbar0 lets
# the tests scan the barcodes they print, systemd brings `systemd-analyze
# verify` for the appliance units and openssl the certificates doctor checks.
# The Kivy till draws through SDL2 (bundled in the Kivy wheel) on Mesa's GL:
# xvfb and xauth give its tests and screenshots a virtual screen, libmtdev1
# silences Kivy's probe for touch devices. postgresql: the HQ tests start a
# throwaway cluster of their own (tests/hq/conftest.py), never the system one.
# poppler-utils (pdfinfo, pdftoppm) lets the tests read the label PDFs back.
DEBIAN_PACKAGES := socat fonts-wqy-zenhei libzbar0 systemd openssl \
	xvfb xauth libgl1-mesa-dri libgl1 libegl1 libgles2 libmtdev1 \
	postgresql poppler-utils
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

# The soak (README: Soak): SOAK_TILLS tills and SOAK_HANDHELDS handhelds against
# one store server for SOAK_SECONDS, the hq_link agent replicating to a local HQ
# (SQLite; SOAK_HQ_DATABASE=<SQLAlchemy URL> for PostgreSQL); var/soak/summary.json.
SOAK_SECONDS ?= 600
SOAK_TILLS ?= 30
SOAK_HANDHELDS ?= 3
SOAK_HQ_DATABASE ?=
.PHONY: soak
soak: $(GEN_STAMP)
	$(BIN)/python -m soak --seconds $(SOAK_SECONDS) --tills $(SOAK_TILLS) \
	  --handhelds $(SOAK_HANDHELDS) $(if $(SOAK_HQ_DATABASE),--hq-database $(SOAK_HQ_DATABASE))

clean:
	rm -rf gen .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var

# ---- the appliance: `make install` (as root) on Debian 12 or Raspberry Pi OS
# 64-bit. DESTDIR stages the files for a package (no user is created, no
# service touched); PREFIX moves the venv and code. Config in /etc/tillpoint
# is installed only where missing; data in /var/lib/tillpoint is never touched.
PREFIX ?= /opt/tillpoint
DESTDIR ?=
UNIT_DIR ?= /etc/systemd/system
TMPFILES_DIR ?= /usr/lib/tmpfiles.d
SYSUSERS_DIR ?= /usr/lib/sysusers.d
CONF_DIR ?= /etc/tillpoint
UNITS := $(wildcard systemd/*.service systemd/*.timer)
APP_VENV := $(DESTDIR)$(PREFIX)/venv
# Debian's own interpreter: the service user must be able to run it (a
# developer's pyenv or conda Python under /root is not readable by it).
INSTALL_PY ?= /usr/bin/python3

install: install-venv install-units install-config install-user
	@echo "== installed under $(DESTDIR)$(PREFIX); start with:"
	@echo "   systemctl enable --now tillpoint-store.service tillpoint-backup.timer"

# A venv of its own with the pinned packages, the code (not editable) and the
# generated stubs. Scripts in a staged venv name the final path, not DESTDIR.
install-venv: $(GEN_STAMP)
	@$(INSTALL_PY) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "== installing python3-venv (Debian)"; \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }
	rm -rf $(APP_VENV)
	$(INSTALL_PY) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	@# pip builds in ./build: start clean so no removed module lingers.
	rm -rf build
	$(APP_VENV)/bin/pip install --disable-pip-version-check -q --no-deps .
	cp -r gen/tillpoint "$$($(APP_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/"
	@if [ -n "$(DESTDIR)" ]; then \
	  grep -rlI -- "$(DESTDIR)" $(APP_VENV)/bin $(APP_VENV)/pyvenv.cfg | \
	    xargs -r sed -i "s|$(DESTDIR)||g"; fi
	$(APP_VENV)/bin/python -m compileall -q $(APP_VENV)/lib >/dev/null
	install -D -m 644 README.md $(DESTDIR)$(PREFIX)/README.md

install-units:
	install -d $(DESTDIR)$(UNIT_DIR)
	@for unit in $(UNITS); do \
	  sed "s|/opt/tillpoint|$(PREFIX)|g" $$unit > $(DESTDIR)$(UNIT_DIR)/$$(basename $$unit); \
	  chmod 644 $(DESTDIR)$(UNIT_DIR)/$$(basename $$unit); done
	install -D -m 644 systemd/tillpoint.tmpfiles $(DESTDIR)$(TMPFILES_DIR)/tillpoint.conf
	install -D -m 644 systemd/tillpoint.sysusers $(DESTDIR)$(SYSUSERS_DIR)/tillpoint.conf

install-config:
	install -d -m 755 $(DESTDIR)$(CONF_DIR)
	@for conf in systemd/etc/*.toml; do \
	  target=$(DESTDIR)$(CONF_DIR)/$$(basename $$conf); \
	  if [ -e $$target ]; then echo "   keeping $$target"; \
	  else install -m 644 $$conf $$target; fi; done

# On the real system only: the user, the directories, systemd told.
install-user:
	@if [ -z "$(DESTDIR)" ]; then \
	  if command -v systemd-sysusers >/dev/null; then \
	    systemd-sysusers $(SYSUSERS_DIR)/tillpoint.conf; \
	  elif ! id tillpoint >/dev/null 2>&1; then \
	    useradd --system --home-dir /var/lib/tillpoint --shell /usr/sbin/nologin tillpoint; fi; \
	  systemd-tmpfiles --create $(TMPFILES_DIR)/tillpoint.conf || \
	    install -d -m 750 -o tillpoint -g tillpoint /var/lib/tillpoint /var/lib/tillpoint/backups; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# Removes the program, units and systemd files; keeps the store's data
# (/var/lib/tillpoint), its backups, its config (/etc/tillpoint) and the user.
uninstall:
	@case "$(PREFIX)" in /|/usr|/usr/local|/opt|"") echo "PREFIX=$(PREFIX): refusing"; exit 1;; esac
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	  systemctl disable --now tillpoint-backup.timer tillpoint-store.service \
	    tillpoint-hq-link.service tillpoint-hq.service 2>/dev/null || true; fi
	rm -f $(foreach unit,$(UNITS),$(DESTDIR)$(UNIT_DIR)/$(notdir $(unit)))
	rm -f $(DESTDIR)$(TMPFILES_DIR)/tillpoint.conf $(DESTDIR)$(SYSUSERS_DIR)/tillpoint.conf
	rm -rf $(DESTDIR)$(PREFIX)
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "== kept: $(CONF_DIR), /var/lib/tillpoint (data and backups), the tillpoint user"


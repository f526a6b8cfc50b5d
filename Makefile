# Two commands on a fresh machine:
#   make demo   install, build the stack's binaries if missing, generate, start the stack, verify it end to end
#   make test   install, build what the tests need (and Debian's Chromium), run the whole test suite
# Needs: python3 (>= 3.11) and go (>= 1.26) with the Go module proxy reachable.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OBS    := $(BIN)/obs
SPEC   ?= obs.yaml
export GOPROXY ?= https://proxy.golang.org
export GOTOOLCHAIN ?= local

.PHONY: demo test lint install build generate check up verify status down clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# obs's own modules compiled to bytecode, as pip does for an installed package: an editable install under
# PYTHONDONTWRITEBYTECODE (set in many CI and container shells) would compile all of obs again on every command,
# some 0.07 s each. Quick when nothing changed: compileall skips modules whose bytecode is current.
install: $(VENV)/.installed
	$(BIN)/python -m compileall -q obs >/dev/null

build: install
	$(OBS) stack build $(SPEC)

generate: install
	$(OBS) validate $(SPEC)
	$(OBS) generate $(SPEC)

check: install
	$(OBS) generate $(SPEC) --check

up: build generate
	$(OBS) up $(SPEC)

verify: install
	$(OBS) verify $(SPEC) --traffic

status: install
	$(OBS) status $(SPEC)

down: install
	$(OBS) down $(SPEC)

demo: up verify status

# The house rules first (seconds): style and bugs (ruff), the layering (import-linter, contracts in pyproject.toml),
# types (mypy, configured in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The browser first: the report's tests render it in headless Chromium and fail, never skip, without it.
test: lint browser
	$(BIN)/python -m pytest -q

# Debian's Chromium, for the tests that render the report (needs root and Debian's package index the first
# time). Playwright (the `dev` extra) drives it; its own browser download is never used.
browser:
	command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

clean: down
	rm -rf $(VENV)

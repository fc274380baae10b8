# Haven: `make run` serves the demo, `make test` runs the whole suite. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HAVEN := $(BIN)/haven
CHROMIUM := /usr/bin/chromium
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test promises lint fmt migrations-check messages bench system-packages security clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(HAVEN) migrate --no-input
	$(HAVEN) demo
	$(HAVEN) runserver 127.0.0.1:8000

# Tests drive Debian's chromium and a real clamd; install them when missing (root on CI and here).
SYSTEM_PACKAGES := chromium fonts-dejavu-core clamav clamav-daemon
system-packages:
	@if ! test -x $(CHROMIUM) || ! command -v clamd >/dev/null || ! command -v sigtool >/dev/null; then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES)) >/dev/null \
	  || echo "system packages could not be installed: browser and virus-scanner tests will fail"; \
	fi

test: $(VENV)/.installed-test system-packages
	$(BIN)/pytest -n 2

promises: $(VENV)/.installed-test system-packages
	-$(BIN)/pytest -n 2 --promise-results=build/promise-results.json
	$(BIN)/python -m haven.promise_report build/promise-results.json

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(VENV)/.installed
	$(HAVEN) makemigrations --check --dry-run

# Compile every app's .po into the .mo committed beside it.
messages: $(VENV)/.installed
	cd haven && ../$(HAVEN) compilemessages --ignore '.venv'

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

# bench/load.py needs locust and gunicorn (the bench extra); bench/locustfile.py does nothing alone.
bench: $(VENV)/.installed-bench
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# Security scans (scans/run.py, docs/security.md): bandit on the code; wapiti and sqlmap against a
# local Haven signed in as each role; testssl.sh against nginx as its TLS terminator. Not in `test`.
SECURITY_PACKAGES := wapiti sqlmap testssl.sh nginx openssl
security: $(VENV)/.installed-bench
	@if ! command -v wapiti >/dev/null || ! command -v sqlmap >/dev/null || ! command -v testssl >/dev/null \
	  || ! test -x /usr/sbin/nginx || ! command -v openssl >/dev/null; then \
	  echo "installing $(SECURITY_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SECURITY_PACKAGES) >/dev/null; \
	fi
	@test -x $(BIN)/bandit || $(BIN)/pip install --quiet 'bandit>=1.8'
	$(BIN)/python scans/run.py

clean:
	rm -rf $(VENV) build

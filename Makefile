# The two commands of the README: `make run` and `make test`. Each sets up what it needs.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test venv test-deps chromium bench clean

$(VPY):
	$(PY) -m venv $(VENV)

$(STAMP): requirements.txt | $(VPY)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(TEST_STAMP): requirements-test.txt requirements.txt | $(VPY)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(STAMP)

# Debian's chromium drives the browser tests (Playwright never downloads a browser here);
# a CJK font makes the Chinese screenshots readable.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

run: $(STAMP)
	$(VPY) app.py $(ARGS)

test: $(TEST_STAMP) chromium
	$(VPY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var

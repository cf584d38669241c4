# The two commands a newcomer needs: `make demo` and `make test`. Everything else is for developers.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint format bench clean

setup: $(STAMP)

# One install step for every target: a fresh machine needs only python3 (and, for Chinese text
# in the charts, a CJK font: installed from Debian's packages when none is there and we can).
$(STAMP): pyproject.toml
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing a CJK font for chart labels (fonts-wqy-microhei)"; \
	    apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	  else \
	    echo "note: no CJK font found; install fonts-wqy-microhei (or Noto Sans CJK) for charts"; \
	  fi; }
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/govbot demo --out demo-output

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache

# Two entry points that work on a fresh machine: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean lock

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -c requirements.lock
	sync  # write the installed files out now, not during the first tests' fsyncs
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vpp backtest --out out/backtest

# The tests run in parallel (pytest-xdist, one worker per core; PYTEST_WORKERS=0 runs them in this process).
# Tests marked slow run only when CI=true (.ci/run) or VPP_SLOW=1: `make test VPP_SLOW=1` runs everything.
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Style and the one-way layers (import-linter contracts in pyproject.toml), without the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.bench_day_ahead --sizes 10,100,1000

# Re-resolve every dependency of .[dev] in a fresh venv and pin what was installed (requirements.lock).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	{ echo '# CI lock: every package of `pip install -e ".[dev]"` at the versions CI tests.'; \
	  echo '# Regenerate with `make lock` after changing dependencies in pyproject.toml.'; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e '; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis .import_linter_cache .grimp_cache

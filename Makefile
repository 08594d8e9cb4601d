PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint cassettes contract bench mutate clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required: install it or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadops demo

# Two processes, each test file on one of them (a file's servers start once).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-record every cassette against a fresh sandbox (or a real test portal: see README).
cassettes: $(STAMP)
	$(BIN)/pytest --record-mode=rewrite -m vcr tests

# The contract suite: against a real test portal when LEADOPS_CONTRACT_BASE_URL and
# LEADOPS_CONTRACT_TOKEN are set (it archives what it creates), else against the sandbox.
contract: $(STAMP)
	$(BIN)/pytest tests/contract

bench: $(STAMP)
	$(BIN)/leadops bench

# Mutation testing of the rule planners (slow: not part of `make test`). Prints the score;
# `$(BIN)/mutmut results` lists survivors, `$(BIN)/mutmut show <name>` shows one.
mutate: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,mutate]'
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json; echo

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis outbox mutants

# The two commands of the README: `make run` and `make test`. Both build .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint typecheck pytest clean

run: $(INSTALLED)
	$(BIN)/createimage-contract run

test: lint typecheck pytest

lint: $(INSTALLED)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy cannot follow the package-dir mapping of an editable install, so it reads a tree of
# links laid out as the installed package is (createimage_contract/schema -> schema, ...).
typecheck: $(INSTALLED)
	rm -rf .typecheck && mkdir -p .typecheck/createimage_contract
	ln -s $(CURDIR)/createimage_contract/* .typecheck/createimage_contract/
	for sub in schema strategies conformance; do \
		ln -s $(CURDIR)/$$sub .typecheck/createimage_contract/$$sub; done
	$(BIN)/mypy

pytest: $(INSTALLED)
	$(BIN)/pytest -n 2

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) .typecheck .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info

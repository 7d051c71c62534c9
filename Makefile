# The two commands of the README: `make run` and `make test`. Both build .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint package-tree typecheck layers pytest clean

run: $(INSTALLED)
	$(BIN)/createimage-contract run

test: lint typecheck layers pytest

lint: $(INSTALLED)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# mypy and import-linter cannot follow the package-dir mapping of an editable install, so they
# read a tree laid out as the installed package is (createimage_contract/schema/*.py -> schema/),
# of real folders holding links to the files (import-linter does not walk linked folders).
PACKAGE_TREE := .typecheck
package-tree:
	rm -rf $(PACKAGE_TREE) && mkdir -p $(PACKAGE_TREE)/createimage_contract
	ln -s $(CURDIR)/createimage_contract/*.py $(CURDIR)/createimage_contract/py.typed \
		$(PACKAGE_TREE)/createimage_contract/
	for sub in schema strategies conformance; do \
		mkdir $(PACKAGE_TREE)/createimage_contract/$$sub && \
		ln -s $(CURDIR)/$$sub/*.py $(PACKAGE_TREE)/createimage_contract/$$sub/; done

typecheck: $(INSTALLED) package-tree
	$(BIN)/mypy

# The layers (schema <- strategies <- conformance <- the command line and the plugin), as the
# contracts in pyproject.toml say; run from the tree, which import-linter puts on the path.
layers: $(INSTALLED) package-tree
	cd $(PACKAGE_TREE) && $(CURDIR)/$(BIN)/lint-imports --no-cache $(CURDIR)/pyproject.toml

pytest: $(INSTALLED)
	$(BIN)/pytest -n 2

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) .typecheck .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info

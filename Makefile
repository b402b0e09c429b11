# cs-analytics: `make report` runs every notebook on the sample (or LOGS=...), `make test` runs every test.
# Both create .venv and install the project on first use; only Python 3 (>= 3.10) and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOGS ?= data/sample/sample_export.csv
PROFILE ?=
RULES ?=
TAXONOMY ?=
RECIPES ?=
SCORECARD ?=
RUN ?= $(shell date +%Y%m%d-%H%M%S)
OUT ?= reports/$(RUN)

.PHONY: install report test sample clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

report: $(STAMP)
	MPLBACKEND=Agg $(BIN)/cs-analytics report --logs "$(LOGS)" $(if $(PROFILE),--profile "$(PROFILE)") $(if $(RULES),--rules "$(RULES)") $(if $(TAXONOMY),--taxonomy "$(TAXONOMY)") $(if $(RECIPES),--recipes "$(RECIPES)") $(if $(SCORECARD),--scorecard "$(SCORECARD)") --out "$(OUT)"

test: $(STAMP)
	MPLBACKEND=Agg CS_ANALYTICS_OUTPUT_DIR=$$(mktemp -d) $(BIN)/python -m pytest

sample: $(STAMP)
	$(BIN)/cs-analytics sample --out data/sample

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis

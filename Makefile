# Two commands do all the set-up: `make demo` and `make test`. The venv is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHECKOV := $(VENV)/tools/checkov/bin/checkov

.PHONY: demo test lint bench clean check-java

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Spark 4 needs Java 17+; say so plainly instead of failing inside py4j.
# checkov pins dependencies that clash with the project's, so it gets a venv of its own.
$(CHECKOV): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet checkov==3.3.30

check-java:
	@command -v java >/dev/null 2>&1 || { echo "Java 17 is required: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) and put java on PATH" >&2; exit 1; }
	@java -version 2>&1 | awk -F'"' '/version/ {split($$2, v, "."); if (v[1] < 17) {print "Java 17+ is required, found " $$2 > "/dev/stderr"; exit 1}}'

demo: $(STAMP) check-java
	$(BIN)/coretelecoms demo

test: $(STAMP) check-java $(CHECKOV)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lib tests jobs
	$(BIN)/ruff format --check lib tests jobs

bench: $(STAMP) check-java
	$(BIN)/coretelecoms bench --scale 1.0 --days 4

clean:
	rm -rf data .pytest_cache

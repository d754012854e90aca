# Two commands do all the set-up: `make demo` and `make test`. The venv is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHECKOV := $(VENV)/tools/checkov/bin/checkov

.PHONY: demo test lint bench clean check-java browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# checkov pins dependencies that clash with the project's, so it gets a venv of its own.
$(CHECKOV): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet checkov==3.3.30

# Spark 4 needs Java 17+; say so plainly instead of failing inside py4j. It comes first in the targets
# that run Spark, so a machine without Java learns it before paying for the install.
# The java checked is the one Spark launches: $JAVA_HOME/bin/java, else java on PATH.
JAVA := $(if $(JAVA_HOME),$(JAVA_HOME)/bin/java,java)
check-java:
	@command -v $(JAVA) >/dev/null 2>&1 || { echo "Java 17 is required: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless) and put java on PATH or set JAVA_HOME" >&2; exit 1; }
	@$(JAVA) -version 2>&1 | awk -F'"' '/version/ {split($$2, v, "."); m = (v[1] == 1) ? v[2] : v[1]; if (m < 17) {print "Java 17+ is required, found " $$2 " (" "$(JAVA)" ")" > "/dev/stderr"; exit 1}}'

demo: check-java $(STAMP)
	$(BIN)/coretelecoms demo

# The Data Docs tests open the pages in a real headless Chromium with the network off (Debian's chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then echo "the Data Docs tests need chromium: sudo apt-get install -y chromium" >&2; exit 1; fi; \
	  apt-cache policy chromium | grep -q 'Candidate: [0-9]' || apt-get update; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

test: check-java browser $(STAMP) $(CHECKOV)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lib tests jobs
	$(BIN)/ruff format --check lib tests jobs

bench: check-java $(STAMP)
	$(BIN)/coretelecoms bench --scale 1.0 --days 4

clean:
	rm -rf data .pytest_cache

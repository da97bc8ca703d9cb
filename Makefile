# Two entry points: `make demo` and `make test`. Both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: any other spec pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# spark: the Spark-equals-local test runs in CI (Java 17 is on the image); multilingual: e5 tests;
	# serve and mlflow: the service's and the tracking's tests.
	$(BIN)/pip install --quiet -e '.[dev,multilingual,spark,serve,mlflow]'
	$(BIN)/pip check
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/python -m pytest -m "" -q

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts

clean:
	rm -rf out .pytest_cache

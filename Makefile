# One place for the project's commands. `make run` and `make test` set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-fast bench lint format chromium nginx datasets serve-lan tinyvgg zfmini clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

# Debian's chromium for the browser tests (Playwright cannot download a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

# Debian's nginx (+ openssl) for the LAN recipe (serve/README.md) and its test; not started as a service.
nginx:
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q nginx openssl; \
	  else sudo apt-get update -q && sudo apt-get install -y -q nginx openssl; fi; }

# Debian's Fashion-MNIST (70,000 images, offline once installed) for the Train page and `--dataset fashionmnist`.
datasets:
	@test -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q dataset-fashion-mnist; \
	  else sudo apt-get update -q && sudo apt-get install -y -q dataset-fashion-mnist; fi; }

# A class on a LAN: N app processes behind nginx with TLS (serve/README.md). make serve-lan N=3 LAN_PORT=8443
N ?= 2
LAN_PORT ?= 8443
serve-lan: $(STAMP) nginx
	serve/serve_lan.sh $(N) $(LAN_PORT)

run: $(STAMP)
	MALLOC_ARENA_MAX=1 $(BIN)/streamlit run asgi.py --server.port $(PORT) --server.address 0.0.0.0

test: $(STAMP) chromium nginx datasets
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser"

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The shipped digit model: trained by this project's own code, seed 0 (docs/ARCHITECTURE.md).
tinyvgg: $(STAMP)
	$(BIN)/python -m cnnviz train --dataset mnist5k --arch tinyvgg --seed 0 --out cnnviz/weights/tinyvgg_mnist \
	  --title "TinyVGG (MNIST digits)" --json

# ZF-mini (7×7 first layer), distilled from EfficientNet-Lite0; not in the zoo yet (see cnnviz/training/distil.py).
zfmini: $(STAMP)
	nice -n 19 $(BIN)/python -m cnnviz.training.distil --out cnnviz/weights/zfmini_distilled.safetensors

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

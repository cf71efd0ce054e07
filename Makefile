# Every target bootstraps .venv from nothing; a fresh machine needs only python3 with venv and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock bench bench-inbox soak screenshots docker-check clean chromium redis

# The application installs from requirements.lock (exact versions of everything the suite ran
# with); the package itself keeps open ranges for library users. `make lock` renews the lock.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	# The official SerwerSMS client, for the test that drives it unchanged: it declares
	# Python >= 3.12 but runs on 3.11, so it is fetched for 3.12 and installed as it is.
	$(BIN)/pip download --quiet --no-deps --python-version 3.12 --only-binary=:all: \
		serwersmsv2api==2.0.0 -d $(VENV)/wheels
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python \
		$(VENV)/wheels/serwersmsv2api-2.0.0-py3-none-any.whl
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rcs-emulator serve --host 127.0.0.1 --port 8080

# The inbox's browser tests drive Debian's Chromium (never a browser a tool downloads).
chromium:
	@[ "$$RCS_SKIP_BROWSER" = 1 ] || command -v chromium >/dev/null || [ -n "$$RCS_CHROMIUM" ] \
		|| { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "the browser tests need Chromium: apt-get install chromium" \
			"(or RCS_CHROMIUM=/path, or RCS_SKIP_BROWSER=1 to skip them)"; exit 1; }
	@# The emoji font the inbox serves (as the Docker image does); the browser tests check 🎉.
	@[ "$$RCS_SKIP_BROWSER" = 1 ] || [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] \
		|| { [ "$$(id -u)" = 0 ] && { apt-get install -y -qq fonts-noto-color-emoji >/dev/null 2>&1 \
			|| { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }; }; } \
		|| echo "no colour emoji font (apt-get install fonts-noto-color-emoji): its tests will skip"

# The shared state's tests run a real redis-server (Debian's package).
redis:
	@command -v redis-server >/dev/null \
		|| { [ "$$(id -u)" = 0 ] && { apt-get install -y -qq redis-server >/dev/null 2>&1 \
			|| { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }; }; } \
		|| { echo "the shared-state tests need redis-server: apt-get install redis-server"; exit 1; }

test: $(STAMP) chromium redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --upgrade --extra dev --strip-extras --no-header \
		--no-emit-index-url --no-emit-find-links --annotation-style=line \
		-o requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) redis
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench

bench-inbox: $(STAMP) chromium
	$(BIN)/python -m bench.inbox

soak: $(STAMP)
	RCS_SOAK_SENDS=60000 $(BIN)/pytest -q -p no:xdist tests/robustness/test_soak.py

screenshots: $(STAMP) chromium
	$(BIN)/python -m tests.ui.screenshots docs/screenshots

# The image builds, runs as non-root, answers its HEALTHCHECK, and carries the inbox's assets.
docker-check:
	../shared/tools/docker-check 8080 /_emulator/health
	../shared/tools/docker-check 8080 /ui/carousel.js
	../shared/tools/docker-check 8080 /ui/emoji.ttf

clean:
	rm -rf $(VENV)

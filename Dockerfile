# rcs-emulator for demo environments: the same server as `make run`, on 0.0.0.0:8080
# (RCS_EMULATOR_PORT moves it, HEALTHCHECK included).
# Works on python:3.11-slim and on a plain Debian with python3 (it makes its own venv).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    RCS_EMULATOR_HOST=0.0.0.0 \
    RCS_EMULATOR_PORT=8080

WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY emulator ./emulator
COPY scenarios ./scenarios
# A colour emoji font, so the inbox shows 🎉 where a message has one (not a box); the page
# itself carries no fonts (it works offline).
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends fonts-noto-color-emoji >/dev/null \
    && rm -rf /var/lib/apt/lists/*
# With the Redis engine (the `redis` extra): examples/scale's replicas share one Redis.
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --quiet -c requirements.lock '.[redis]' \
    && rm -rf /src \
    && mkdir -p /config \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin emulator

# Mount a folder here with config.yaml and/or scenario files, then set for example
# RCS_EMULATOR_CONFIG=/config/config.yaml or RCS_EMULATOR_SCENARIO_DIRS=/config/scenarios.
VOLUME ["/config"]
WORKDIR /config
USER 10001
EXPOSE 8080
# The probe asks the port the server listens on: RCS_EMULATOR_PORT (set above, so it wins over a
# config file's port), as `docker run -e RCS_EMULATOR_PORT=9000 -p 9000:9000` changes it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request; port = os.environ.get('RCS_EMULATOR_PORT') or '8080'; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/_emulator/health', timeout=2).status != 200)"]
CMD ["rcs-emulator", "serve", "--host", "0.0.0.0"]

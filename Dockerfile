# The image of the API and the workers: simdock with its sample simulations.
#   docker build -t simdock:local .
#   docker run --rm -p 8000:8000 -e HOST=0.0.0.0 simdock:local              # the API
#   docker run --rm simdock:local simdock worker --processes 2 --concurrency 2   # workers
# The base is any Debian-based image with Python 3.11+ (BASE_IMAGE); a local one can be
# made offline (see the README, "Deployment").
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SIMDOCK_ENV=production HOST=0.0.0.0 PORT=8000 ARTIFACTS_PATH=/data/artifacts

WORKDIR /opt/simdock
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY adapters ./adapters
COPY sim ./sim
COPY migrations ./migrations
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir ".[plot]" \
    && useradd --system --home-dir /data --create-home simdock
ENV PATH=/opt/venv/bin:$PATH

USER simdock
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python3 -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/live', timeout=4)"
CMD ["simdock", "serve"]

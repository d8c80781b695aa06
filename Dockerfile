# feeds: one image for every role (web, worker, prune, export/import); see docs/deployment.md.
#   docker build -t feeds .
#   docker run -p 8000:8000 -v feeds-data:/data feeds          # one machine, SQLite
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FEEDS_CONFIG=/app/config.yaml \
    FEEDS_DATABASE_URL=sqlite:////data/feeds.db

WORKDIR /app
COPY . /app
# The shipped config.yaml and its bundled samples (feeds/samples) stay in /app: the config
# names the samples by paths relative to itself. Mount your own config over it.
RUN pip install . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin feeds \
    && mkdir -p /data && chown feeds /data

USER feeds
VOLUME /data
EXPOSE 8000
# For `feeds serve`; containers running `feeds worker` or one-off commands disable it.
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["feeds", "serve", "--host", "0.0.0.0", "--port", "8000"]

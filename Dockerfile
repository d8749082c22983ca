# IJA-Lotse — slim image, non-root, database on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BOT_DATABASE=/data/ija-lotse.sqlite3 \
    BOT_BACKUP_DIR=/data/backups

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY content ./content
COPY migrations ./migrations
RUN pip install -e . \
    && useradd --create-home --uid 10001 lotse \
    && mkdir -p /data && chown lotse:lotse /data

USER lotse
VOLUME ["/data"]
# Webhook mode listens here when BOT_WEBHOOK_URL is set (BOT_WEBHOOK_PORT, default 8443).
EXPOSE 8443
CMD ["python", "-m", "bot"]

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
# Bytecode compiled here: PYTHONDONTWRITEBYTECODE (and a read-only /app) would make every start compile the
# bot's modules again (about 0.2 s and 3 MB at the peak of each start). The pre-built content (bot/prebuilt.py)
# is shipped too: the first start of a new image needs not build it.
RUN pip install -e . \
    && python -m compileall -q bot handlers \
    && python -c "from pathlib import Path; from bot.prebuilt import write_shipped; write_shipped(Path('content').resolve())" \
    && useradd --create-home --uid 10001 lotse \
    && mkdir -p /data && chown lotse:lotse /data

USER lotse
VOLUME ["/data"]
# Webhook mode listens here when BOT_WEBHOOK_URL is set (BOT_WEBHOOK_PORT, default 8443).
EXPOSE 8443
CMD ["python", "-m", "bot"]

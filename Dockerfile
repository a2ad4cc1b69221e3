# Image for web, worker and beat (see docker-compose.yml). Production settings; code runs from /app.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=registrar.settings.production \
    REGISTRAR_VAR_DIR=/app/var

# The same Debian packages bin/lib.sh installs (BASE_DEBS): WeasyPrint's Pango/HarfBuzz,
# the CJK fonts the documents are set in, poppler-utils and gettext.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk \
        fontconfig \
        libharfbuzz-subset0 \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        poppler-utils \
        gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .
RUN if [ -d locale ]; then DJANGO_SECRET_KEY=build-only python manage.py compilemessages -v 0; fi \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin registrar \
    && mkdir -p /app/var \
    && chown -R registrar:registrar /app/var

USER registrar
EXPOSE 8000
CMD ["gunicorn", "registrar.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

# One image recipe for every service; the build arguments pick which. From the repository root:
#   docker build --build-arg SERVICE_DIR=ingestion --build-arg SERVICE_PACKAGE=dunning_ingestion \
#     --build-arg SERVICE_PORT=8001 -t dunning/ingestion .
# docker-compose.yml and deploy/k8s pass the arguments of each of the four services.
FROM python:3.11-slim

ARG SERVICE_DIR
ARG SERVICE_PACKAGE
ARG SERVICE_PORT

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pinned dependencies first, so this layer is rebuilt only when the lock changes (and is shared by all
# four images).
COPY requirements.lock ./
RUN pip install -r requirements.lock

# Our packages without their dependencies: everything they need is pinned above, and pip check fails
# the build if the lock misses something.
COPY libs/ libs/
COPY services/${SERVICE_DIR}/ services/${SERVICE_DIR}/
RUN test -n "${SERVICE_DIR}" && test -n "${SERVICE_PACKAGE}" && test -n "${SERVICE_PORT}" \
    && pip install --no-deps ./libs/contracts ./libs/messaging ./libs/platform ./services/${SERVICE_DIR} \
    && pip check

# No root at run time; a fixed uid so mounted secrets can be made readable to it alone.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin dunning
USER 10001:10001

# alembic.ini names its scripts relative to this directory.
WORKDIR /app/services/${SERVICE_DIR}
ENV SERVICE_PACKAGE=${SERVICE_PACKAGE} \
    SERVICE_PORT=${SERVICE_PORT}
EXPOSE ${SERVICE_PORT}

HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SERVICE_PORT\"]}/readyz', timeout=2).status != 200)"

# Migrations first (replicas that start together wait on an advisory lock), then the app.
CMD ["sh", "-c", "alembic -c alembic.ini upgrade head && exec uvicorn ${SERVICE_PACKAGE}.main:app --host 0.0.0.0 --port ${SERVICE_PORT}"]

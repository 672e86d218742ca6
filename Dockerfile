# The one TripSage image, `tripsage-ai`: docker build -t tripsage-ai .
# The container command picks the process (ENTRYPOINT: python -m tripsage.container):
#   services.auth | services.trips | services.travel | services.assistant  (gRPC, 50051-50054)
#   gateway                          REST gateway on 8000 (the default command)
#   migrate                          one-shot job: apply every service's migrations
#   backup | restore PATH | ...      any other `tripsage` command
#   probe ADDRESS [SERVICE]          exit 0 only when grpc.health.v1 says SERVING
#   healthcheck                      the HEALTHCHECK: probes whichever process PID 1 runs
#   python -m services.trips         the interpreter itself also works
# Runs as uid 10001 with a read-only root filesystem: every write goes to /data
# (TRIPSAGE_DATA_DIR; log files in /data/logs), a volume. Set LOG_FILE_MAX_BYTES=0 to log
# only to stdout when no volume is mounted there.
ARG BASE=python:3.13-slim
# uv comes from its own image; offline, any image with the binary at /uv stands in
# (`--build-arg UV_IMAGE=...`, as tests/docker builds one).
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${BASE} AS build
COPY --from=uv /uv /usr/local/bin/uv
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3 \
    UV_NO_CACHE=1
COPY pyproject.toml uv.lock README.md ./
# --no-default-groups: no test tools and no embedded PostgreSQL/Valkey (production
# refuses them anyway). The CA bundle of a proxied build network comes in as the
# secret `ca`, never into a layer.
RUN --mount=type=secret,id=ca,required=false \
    if [ -f /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && uv sync --frozen --no-default-groups --no-install-project
COPY tripsage ./tripsage
COPY tripsage_core ./tripsage_core
COPY services ./services
COPY gateway ./gateway
COPY scripts ./scripts
RUN --mount=type=secret,id=ca,required=false \
    if [ -f /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && uv sync --frozen --no-default-groups \
 && .venv/bin/python -m compileall -q tripsage tripsage_core services gateway
# (The project is installed editable, so UV_COMPILE_BYTECODE leaves its own modules out;
# compiled here, a service process starts ~15 MB smaller: docs/performance.md.)

FROM ${BASE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="tripsage-ai" \
      org.opencontainers.image.description="TripSage: gRPC travel-planning services and their REST gateway" \
      org.opencontainers.image.version="${VERSION}"
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin tripsage \
 && mkdir -p /data \
 && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /app /app
# In a container the services must be reachable from the others: bind every interface
# (outside containers GRPC_BIND_HOST defaults to 127.0.0.1).
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production LOG_FORMAT=json GRPC_BIND_HOST=0.0.0.0 \
    TRIPSAGE_DATA_DIR=/data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8000 50051 50052 50053 50054
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "-m", "tripsage.container", "healthcheck"]
ENTRYPOINT ["python", "-m", "tripsage.container"]
CMD ["gateway"]

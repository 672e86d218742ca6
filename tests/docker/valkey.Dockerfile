# Valkey on the local Debian base, standing in for valkey/valkey:8 (REDIS_IMAGE).
ARG BASE=tripsage-base:trixie
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends valkey-server \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /data
EXPOSE 6379
CMD ["valkey-server", "--bind", "0.0.0.0", "--protected-mode", "no"]

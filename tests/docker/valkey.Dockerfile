# Valkey on the local Debian base, standing in for valkey/valkey:8 (REDIS_IMAGE). Like the
# official image's entrypoint, `valkey-server ARGS` also listens on every interface without
# protected mode, so compose's own `command:` works with it.
ARG BASE=tripsage-base:trixie
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends valkey-server \
 && rm -rf /var/lib/apt/lists/*
COPY valkey-entrypoint.sh /usr/local/bin/valkey-entrypoint
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["sh", "/usr/local/bin/valkey-entrypoint"]
CMD ["valkey-server"]

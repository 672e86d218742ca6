# Stands in for ghcr.io/astral-sh/uv offline: the build context holds the uv binary.
FROM scratch
COPY uv /uv

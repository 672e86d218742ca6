#!/bin/sh
# As valkey/valkey's docker-entrypoint.sh: a server started without a config file is
# reachable from other containers.
if [ "$1" = "valkey-server" ]; then
    shift
    exec valkey-server "$@" --bind 0.0.0.0 --protected-mode no
fi
exec "$@"

#!/bin/sh
# A tiny HTTP-less "service": prints its config and stays in the foreground, logging to stdout.
echo "greeter starting with GREETING=${GREETING:-hello}"
exec sleep 3600

#!/bin/sh
trap 'exit 0' TERM
echo "pid $$" > /app/state.pid || exit 3
echo "started"
while true; do sleep 1 & wait $!; done

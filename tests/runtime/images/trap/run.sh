#!/bin/sh
trap 'echo "stopping on TERM"; exit 0' TERM
echo "listening on 8080"
busybox httpd -f -p 8080 -h /tmp &
touch /tmp/ready
while true; do sleep 1 & wait $!; done

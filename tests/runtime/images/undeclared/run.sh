#!/bin/sh
trap 'exit 0' TERM
busybox httpd -f -p 8080 -h /tmp &
busybox httpd -f -p 9999 -h /tmp &
echo "serving"
while true; do sleep 1 & wait $!; done

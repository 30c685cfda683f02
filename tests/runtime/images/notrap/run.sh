#!/bin/sh
echo "started"
while true; do sleep 1; done

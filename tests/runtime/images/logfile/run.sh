#!/bin/sh
mkdir -p /var/log/app
while true; do echo "request served" >> /var/log/app/app.log; sleep 0.2; done

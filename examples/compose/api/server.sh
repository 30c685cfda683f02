#!/bin/sh
echo ready
exec sleep 3600

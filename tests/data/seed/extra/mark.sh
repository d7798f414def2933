#!/bin/sh
# mark.sh - a seed exec step's proof that it ran with its env and user
echo "$MARK" > /tmp/mark
id -un

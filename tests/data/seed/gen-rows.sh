#!/bin/sh
# gen-rows.sh N - N rows for items as INSERT statements on stdout
awk -v n="${1:-10000}" 'BEGIN { print "BEGIN;"; for (i = 1; i <= n; i++) printf "INSERT INTO items VALUES (%d, %citem %d%c, %d.%02d);\n", i, 39, i, 39, i % 1000, i % 100; print "COMMIT;" }'

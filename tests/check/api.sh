# api.sh - sourced by the tests of tests/check/: a busybox httpd ("api")
# serving fixed JSON files from $tmp/www (a bind mount: the fixture has no
# /tmp), a CGI answering 500 and a slow one (sleep 1); $tmp/api.yml with
# the checks of issue 15's forms.  httpd as PID 1 ignores SIGTERM: it is
# stopped with SIGKILL.
mkdir -p "$tmp/www/cgi-bin"
printf '%s\n' '.json:application/json' >"$tmp/www/httpd.conf"
printf '%s\n' '{"id": "u-1", "email": "ann@example.com", "createdAt": "2024-01-02T03:04:05Z", "age": 41, "tags": ["a", "b"]}' >"$tmp/www/user.json"
printf '%s\n' '{"id": 42, "email": "ann@example.com", "createdAt": "2024-01-02T03:04:05Z"}' >"$tmp/www/wrong.json"
printf '%s\n' '{"id": "u-1", "createdAt": "2024-01-02T03:04:05Z"}' >"$tmp/www/missing.json"
cat >"$tmp/www/cgi-bin/fail" <<'EOF2'
#!/bin/sh
printf 'Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n{"error":"boom"}\n'
EOF2
cat >"$tmp/www/cgi-bin/slow" <<'EOF2'
#!/bin/sh
sleep 1
printf 'Content-Type: application/json\r\n\r\n{"ok":true}\n'
EOF2
chmod 755 "$tmp/www/cgi-bin/fail" "$tmp/www/cgi-bin/slow"
chmod -R a+rX "$tmp/www"

# api_stack FILE CHECKS: the api service with the x-itm.checks given (YAML
# list items, indented by 8)
api_stack () {
  cat >"$1" <<EOF2
services:
  api:
    image: itm-fixture/busybox:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/www", "-c", "/www/httpd.conf"]
    stop_signal: SIGKILL
    volumes: ["$tmp/www:/www:ro"]
    ports: ["127.0.0.1::8080"]
    x-itm:
      checks:
$2
EOF2
}

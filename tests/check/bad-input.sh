#!/bin/sh
# bad-input.sh - x-itm.checks mistakes are load errors at file:line:col,
# exit 3, before anything is created: an unknown check kind, a bad JSON
# pointer, an invalid regular expression, a check needing a port on a
# service without ports (or a port it does not publish), an unknown type.
ITM_TEST_NEEDS_ENGINE=0
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"

# bad NAME CHECK-YAML PORTS: $tmp/NAME.yml
bad () {
  cat >"$tmp/$1.yml" <<EOF2
services:
  api:
    image: itm-fixture/busybox:latest
$3
    x-itm:
      checks:
$2
EOF2
}
bad kind '        - ftp: {path: /}' '    ports: ["8080"]'
bad pointer '        - http: {path: /u.json}
          expect: {body: {id: {type: string}}}' '    ports: ["8080"]'
bad tilde '        - http: /u.json
          expect: {body: {"/a~2b": {type: string}}}' '    ports: ["8080"]'
bad regex '        - sql: show server_version
          expect: {match: "^15\\.("}' '    ports: ["8080"]'
bad bodyregex '        - http: /u.json
          expect: {body: {/a: {matches: "[a-"}}}' '    ports: ["8080"]'
bad noports '        - name: api up
          http: {path: /health}' ''
bad tcpnoports '        - tcp: 5432' ''
bad otherport '        - http: {path: /, port: 9090}' '    ports: ["8080"]'
bad type '        - http: /u.json
          expect: {shape: {id: strng}}' '    ports: ["8080"]'
bad twokinds '        - sql: select 1
          redis: PING' '    ports: ["8080"]'

# check NAME LINE:COL MESSAGE-ERE
check () {
  run "$ITM_ENV" -f "$tmp/$1.yml" config
  is "$rc" 3 "$1: exit 3"
  like "$err" "^$tmp/$1.yml:$2: error: services\\.api\\.x-itm\\.checks\\[0\\]: $3" "$1: file:line:col and message"
}
check kind 7:11 "unknown check kind or key 'ftp'"
check pointer 8:27 "bad JSON pointer 'id': it must be empty or begin with '/'"
check tilde 8:27 "bad JSON pointer '/a~2b': '~' must be followed by 0 or 1"
check regex 8:27 "expect\\.match: invalid regular expression"
check bodyregex 8:41 "matches: invalid regular expression '\\[a-'"
check noports 8:11 "a http check needs a published or exposed port, and service 'api' has neither 'ports' nor 'expose'"
check tcpnoports 7:11 "a tcp check needs a published or exposed port, and service 'api' has neither 'ports' nor 'expose'"
check otherport 7:11 "port 9090 is not among service 'api''s published or exposed ports"
check type 8:32 "expect\\.shape\\.id: unknown type 'strng'"
check twokinds 8:11 "a check has one kind; 'sql' and 'redis' are both given"

# up stops at load time too: nothing created
run "$ITM_ENV" -p "$ITM_NS" -f "$tmp/kind.yml" up
is "$rc" 3 "up: exit 3 on a bad check"
done_testing

#!/bin/sh
# config-gen.sh N - a stack of N services with anchors, merge keys and
# interpolation, on stdout (bench/config-bench.sh).
n=${1:-1000}
awk -v n="$n" 'BEGIN {
  print "x-base: &base"
  print "  restart: unless-stopped"
  print "  labels: {tier: bench, owner: \"${OWNER:-ci}\"}"
  print "  healthcheck: &hc"
  print "    test: [\"CMD-SHELL\", \"wget -qO- http://localhost:8080/health || exit 1\"]"
  print "    interval: 10s"
  print "    timeout: 2s"
  print "    retries: 5"
  print "x-env: &env"
  print "  LOG_LEVEL: ${LOG_LEVEL:-info}"
  print "  REGION: ${REGION:-eu-west-1}"
  print "services:"
  for (i = 0; i < n; i++) {
    printf "  svc%04d:\n", i
    print  "    <<: *base"
    printf "    image: registry.local/app%d:${TAG:-1.0}\n", i % 50
    printf "    command: [\"/bin/app\", \"--port\", \"8080\", \"--id\", \"%d\"]\n", i
    print  "    environment:"
    print  "      <<: *env"
    printf "      SERVICE_ID: \"%d\"\n", i
    printf "      PEER: http://svc%04d:8080\n", (i + 1) % n
    printf "    ports: [\"127.0.0.1:%d:8080\", \"9090/udp\"]\n", 20000 + i
    printf "    volumes: [\"data%d:/var/lib/app\", \"./conf/%d:/etc/app:ro\"]\n", i % 20, i % 10
    print  "    networks: [front, back]"
    if (i > 0 && i % 10 != 0)
      printf "    depends_on:\n      svc%04d: {condition: service_healthy}\n", i - 1
  }
  print "networks:\n  front:\n  back:\n    internal: true"
  print "volumes:"
  for (i = 0; i < 20; i++) printf "  data%d:\n", i
}'

#!/bin/sh
# up-spec.sh - every service key the Engine API can express reaches the
# container: checked on the engine's own inspect of what up created.
. "${ITM_SRCDIR:-$(dirname "$0")/../..}/tests/lib.sh"
need_engine
need_cmd jq
need_fixtures busybox
at_exit "'$ITM_ENV' down -p '$ITM_NS' >/dev/null 2>&1"
bb=itm-fixture/busybox:latest
mkdir -p "$tmp/share"
echo shared >"$tmp/share/f"
port=$(free_port)
cat >"$tmp/stack.yml" <<EOF2
services:
  full:
    image: $bb
    entrypoint: ["/bin/sh", "-c"]
    command: ["sleep 3600"]
    environment:
      FOO: bar
      EMPTY: ""
    working_dir: /tmp
    user: "1000:1000"
    hostname: fullhost
    ports:
      - "8080"
      - "127.0.0.1:$port:9090"
      - "9191/udp"
    volumes:
      - ./share:/share:ro
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1048576}
    tmpfs:
      - /run/t:size=65536
    extra_hosts:
      - "db.example:10.1.2.3"
    init: true
    restart: on-failure:3
    stop_signal: SIGUSR1
    stop_grace_period: 7s
    healthcheck:
      test: ["CMD", "true"]
      interval: 1m30s
      timeout: 2s
      start_period: 5s
      retries: 4
    mem_limit: 64m
    cpus: 0.5
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    sysctls:
      net.core.somaxconn: 1024
    shm_size: 32m
    read_only: true
    tty: true
    stdin_open: true
    dns: [10.9.9.9]
    labels:
      com.example.k: v
    networks:
      default:
      back:
        aliases: [full-back]
networks:
  back:
EOF2
cd "$tmp"
run "$ITM_ENV" -f stack.yml up --timeout 60
is "$rc" 0 "up of a service with every key"
j=$(engine_get "/containers/$ITM_NS-full-1/json")
q () { printf '%s\n' "$j" | jq -c "$1"; }
is "$(q .Config.Entrypoint)" '["/bin/sh","-c"]' entrypoint
is "$(q .Config.Cmd)" '["sleep 3600"]' command
is "$(q '[.Config.Env[] | select(startswith("FOO=") or startswith("EMPTY="))]')" '["FOO=bar","EMPTY="]' environment
is "$(q .Config.WorkingDir)" '"/tmp"' working_dir
is "$(q .Config.User)" '"1000:1000"' user
is "$(q .Config.Hostname)" '"fullhost"' hostname
is "$(q '.HostConfig.PortBindings["8080/tcp"]')" '[{"HostIp":"127.0.0.1","HostPort":""}]' \
  "a port without a host side: 127.0.0.1, ephemeral"
is "$(q '.HostConfig.PortBindings["9090/tcp"]')" "[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$port\"}]" "a fixed host port"
is "$(q '.HostConfig.PortBindings["9191/udp"][0].HostIp')" '"127.0.0.1"' "udp"
like "$(q '.NetworkSettings.Ports["8080/tcp"][0].HostPort')" '^"[0-9]+"$' "the ephemeral port was assigned"
is "$(q '.HostConfig.Binds')" "[\"$(pwd -P)/share:/share:ro\"]" "a bind mount, read-only"
is "$(q '[.HostConfig.Mounts[] | select(.Type == "tmpfs") | .Target, .TmpfsOptions.SizeBytes]')" '["/scratch",1048576]' "a tmpfs mount"
is "$(q '.HostConfig.Tmpfs')" '{"/run/t":"size=65536"}' tmpfs
is "$(q .HostConfig.ExtraHosts)" '["db.example:10.1.2.3"]' extra_hosts
is "$(q .HostConfig.Init)" true init
is "$(q .HostConfig.RestartPolicy)" '{"Name":"on-failure","MaximumRetryCount":3}' restart
is "$(q .Config.StopSignal)" '"SIGUSR1"' stop_signal
is "$(q .Config.StopTimeout)" 7 stop_grace_period
# (API 1.44+: StartInterval too, 500 ms when the file gives none)
si=
engine_api_at_least 1.44 && si=',"StartInterval":500000000'
is "$(q .Config.Healthcheck)" '{"Test":["CMD","true"],"Interval":90000000000,"Timeout":2000000000,"StartPeriod":5000000000'"$si"',"Retries":4}' healthcheck
is "$(q .HostConfig.Memory)" 67108864 mem_limit
is "$(q .HostConfig.NanoCpus)" 500000000 cpus
is "$(q .HostConfig.CapAdd)" '["NET_ADMIN"]' cap_add
is "$(q .HostConfig.CapDrop)" '["MKNOD"]' cap_drop
is "$(q .HostConfig.Ulimits)" '[{"Name":"nofile","Hard":2048,"Soft":1024}]' ulimits
is "$(q .HostConfig.Sysctls)" '{"net.core.somaxconn":"1024"}' sysctls
is "$(q .HostConfig.ShmSize)" 33554432 shm_size
is "$(q .HostConfig.ReadonlyRootfs)" true read_only
is "$(q .Config.Tty)" true tty
is "$(q .Config.OpenStdin)" true stdin_open
is "$(q .HostConfig.Dns)" '["10.9.9.9"]' dns
is "$(q '.Config.Labels["com.example.k"]')" '"v"' labels
is "$(q '.NetworkSettings.Networks | keys')" "[\"${ITM_NS}_back\",\"${ITM_NS}_default\"]" "both networks"
like "$(q ".NetworkSettings.Networks[\"${ITM_NS}_back\"].Aliases")" 'full-back' "the declared alias"
like "$(q ".NetworkSettings.Networks[\"${ITM_NS}_default\"].Aliases")" '"full"' "the service name as an alias"
is "$(engine_get "/networks/${ITM_NS}_back" | jq -r '.Labels["io.itm-env.network"]')" back "network labelled with its key"
run "$ITM_ENV" down
is "$rc" 0 down
done_testing

# Dockerfile - itm-env as an image: the binary, the shared libraries it
# loads and its man pages on a small Debian 12 base; no compiler.
#
#   docker build -t itm-env .
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$PWD:$PWD" -w "$PWD" itm-env run -- make test
#
# BASE is the Debian 12 image both stages start from (default
# debian:bookworm-slim).  Both stages install from Debian's archive with
# apt-get, so a Debian mirror must be reachable (a Docker registry need not
# be: the test bed builds this file with BASE=itm-fixture/debian-data:bookworm,
# an image it made itself, through `itm-env build`).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      gcc make autoconf automake libtool pkg-config \
      libcurl4-openssl-dev libjson-c-dev libarchive-dev libssl-dev libyaml-dev \
      protobuf-c-compiler libprotobuf-c-dev libnghttp2-dev \
      </dev/null >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /build
RUN /src/autogen.sh \
 && /src/configure --prefix=/usr/local \
 && make -j"$(nproc)" itm-env \
 && make install-binPROGRAMS install-man DESTDIR=/out

FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libcurl4 libjson-c5 libarchive13 libssl3 libyaml-0-2 libprotobuf-c1 libnghttp2-14 ca-certificates \
      </dev/null >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/ /usr/local/
# the GitHub Action's entrypoints (action.yml)
COPY ci/github/github-main.sh ci/github/github-post.sh /usr/local/share/itm-env/ci/
LABEL org.opencontainers.image.title="itm-env" \
      org.opencontainers.image.description="Throwaway integration-test environments on a Docker engine"
ENTRYPOINT ["/usr/local/bin/itm-env"]
CMD ["--help"]

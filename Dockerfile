# The sgsweep image: the static sgsweep binary in an empty (scratch) image,
# running as an unprivileged numeric user, with its state directory
# (results store state.db) as a volume.
#
# The binary is compiled on the host, not in a build stage, so that no base
# image has to be pulled: docker/build-images.sh compiles it into bin/docker/
# (CGO_ENABLED=0) and builds this image and the NATS image. By hand:
#
#   mkdir -p bin/docker/empty
#   CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/docker/sgsweep ./cmd/sgsweep
#   cp /etc/ssl/certs/ca-certificates.crt bin/docker/
#   docker build -t sgsweep/sgsweep:local .
#
# Run, e.g.: docker run --rm -v "$PWD/examples:/specs:ro" sgsweep/sgsweep:local plan /specs/quickstart.yaml
# or see docker-compose.yml and docs/scale-out.md. NATS credentials come from
# the environment at run time (NATS_TOKEN, NATS_USER/NATS_PASSWORD, or a
# mounted NATS_CREDS file), never from the image.
FROM scratch

ARG VERSION=dev
LABEL org.opencontainers.image.title="sgsweep" \
      org.opencontainers.image.description="systematic surrogate-gradient studies of spiking networks" \
      org.opencontainers.image.version="${VERSION}"

COPY bin/docker/sgsweep /sgsweep
# For TLS to NATS servers with publicly signed certificates.
COPY bin/docker/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# An empty directory owned by the user: a new named volume mounted on /data
# copies this ownership, so the user can write to it.
COPY --chown=10001:10001 bin/docker/empty/ /data/

USER 10001:10001
# SGSWEEP_DATA_DIR: the state directory (state.db; nats/ and nats.json with
# the embedded server). SGSWEEP_DATA: where MNIST, Fashion-MNIST and SHD
# files are looked for (mount them there read-only).
ENV SGSWEEP_DATA_DIR=/data \
    SGSWEEP_DATA=/datasets
WORKDIR /data
VOLUME /data

ENTRYPOINT ["/sgsweep"]
CMD ["--help"]

#!/usr/bin/env bash
# Builds the images of docker-compose.yml without pulling anything: compiles
# static binaries here (CGO_ENABLED=0) into bin/docker/, then builds
#   $SGSWEEP_IMAGE    (default sgsweep/sgsweep:local)     from Dockerfile
#   $NATS_LOCAL_IMAGE (default sgsweep/nats-server:local) from docker/nats/Dockerfile,
#                     nats-server built from the module version in go.mod
# Use the local NATS image with NATS_IMAGE=sgsweep/nats-server:local.
# Set SKIP_NATS_IMAGE=1 to build only the sgsweep image; GOARCH to cross-build.
set -euo pipefail
cd "$(dirname "$0")/.."

sgsweep_image=${SGSWEEP_IMAGE:-sgsweep/sgsweep:local}
nats_image=${NATS_LOCAL_IMAGE:-sgsweep/nats-server:local}
out=bin/docker
version=$(git describe --always --dirty 2>/dev/null || echo dev)

rm -rf "$out"
mkdir -p "$out/empty"
export CGO_ENABLED=0 GOOS=linux
export GOARCH=${GOARCH:-$(go env GOARCH)}
# Stamp the git revision into the binary (sgsweep records it in every
# result's provenance) when git can read this checkout; this overrides a
# -buildvcs=false in GOFLAGS.
vcs=-buildvcs=false
if git status --porcelain >/dev/null 2>&1; then
	vcs=-buildvcs=true
else
	echo "note: git cannot read this checkout: the binaries carry no revision" >&2
fi
# -s -w drop the symbol tables (a third of the size); the build info stays.
build() { go build "$vcs" -trimpath -ldflags='-s -w' -o "$@"; }

echo "building sgsweep ($GOOS/$GOARCH, static)"
build "$out/sgsweep" ./cmd/sgsweep
ca=/etc/ssl/certs/ca-certificates.crt
if [[ -f $ca ]]; then
	cp "$ca" "$out/ca-certificates.crt"
else
	echo "warning: no $ca: the image will trust no public CA (pass --tls-ca)" >&2
	: >"$out/ca-certificates.crt"
fi
docker build --quiet --build-arg "VERSION=$version" -t "$sgsweep_image" -f Dockerfile . >/dev/null
echo "built $sgsweep_image"

if [[ -z ${SKIP_NATS_IMAGE:-} ]]; then
	echo "building nats-server $(go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2) ($GOOS/$GOARCH, static)"
	build "$out/nats-server" github.com/nats-io/nats-server/v2
	docker build --quiet --build-arg "VERSION=$version" -t "$nats_image" -f docker/nats/Dockerfile . >/dev/null
	echo "built $nats_image"
fi
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -F -e "$sgsweep_image" -e "$nats_image" || true

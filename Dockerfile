# syntax=docker/dockerfile:1
#
# idgate: a static binary on distroless, running as a non-root user.
#   docker build -t idgate .
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (deploy/kubernetes).
# deploy/dockerfile_test.go runs the build stage's `go build` line as
# written here, so keep it a single command without shell operators.
# Stamp the version (idgate version, idgate_build_info):
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t idgate .

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false -ldflags="-s -w -X github.com/idgate/idgate/internal/buildinfo.version=${VERSION} -X github.com/idgate/idgate/internal/buildinfo.commit=${COMMIT} -X github.com/idgate/idgate/internal/buildinfo.date=${BUILD_DATE}" -o /out/idgate ./cmd/idgate

# static: CA certificates, /etc/passwd with nonroot, tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idgate /usr/local/bin/idgate
USER 65532:65532
# A soft memory limit for the Go runtime, about 80% of the 256Mi the
# Kubernetes manifests give the container: the GC works harder near it
# instead of letting the heap double. Override it with the env var when
# the container's limit differs (keep it ~80% of the limit).
ENV GOMEMLIMIT=200MiB
EXPOSE 8080 9001
ENTRYPOINT ["/usr/local/bin/idgate"]
CMD ["serve", "--config", "/etc/idgate/config.yaml"]

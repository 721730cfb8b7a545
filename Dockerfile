# Multi-stage build: a static steward binary in an image holding nothing
# else (FROM scratch), run as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X github.com/steward-oss/steward/cli.Version=${VERSION}" -o /out/steward ./cmd/steward \
 && mkdir -p /out/var/lib/steward /out/tmp

# The final stage: deploy/image_test.go builds exactly these lines from a
# locally built binary (go test -tags imagetest ./deploy/).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build --chown=65532:65532 /out/var/lib/steward /var/lib/steward
COPY --from=build --chown=65532:65532 --chmod=1777 /out/tmp /tmp
COPY --from=build /out/steward /usr/local/bin/steward
USER 65532:65532
WORKDIR /var/lib/steward
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s CMD ["/usr/local/bin/steward", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/steward"]
CMD ["serve", "--config", "/etc/steward/steward.yaml", "--listen", "0.0.0.0:8080"]

# Multi-stage build: a static steward binary in a distroless, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/steward ./cmd/steward

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/steward /usr/local/bin/steward
USER nonroot:nonroot
WORKDIR /var/lib/steward
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/steward"]
CMD ["serve", "--config", "/etc/steward/steward.yaml", "--listen", "0.0.0.0:8080"]

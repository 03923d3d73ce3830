# The operator as one binary on a minimal non-root image.
# `deno compile` needs Deno's runtime download, so it runs inside this build
# (with network), never in tests.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock* ./
COPY main.ts ./
COPY src/ src/
COPY generated/ generated/
RUN deno install --entrypoint main.ts \
 && deno compile --allow-net --allow-read --allow-env --allow-run \
      --v8-flags=--max-old-space-size=256 --output /redis-operator main.ts

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /redis-operator /redis-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/redis-operator"]

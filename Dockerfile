# syntax=docker/dockerfile:1
# One statuscast node. docker-compose.yml runs two of them behind a proxy; alone:
#   docker build -t statuscast . && docker run -p 3000:3000 statuscast

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 compiles from source when its prebuilt binary cannot be fetched; Node's own
# headers (nodedir) spare node-gyp a download.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# npm ci links the workspace packages, so their manifests must be here too.
COPY packages/signalr-server/package.json packages/signalr-server/
COPY packages/client/package.json packages/client/
# Runtime dependencies only: tsx runs the TypeScript sources, esbuild bundles the web page.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Named volumes mounted on these paths start with this ownership, so the unprivileged user can
# write its read models (/data) and the shared dev-mode key (/shared).
RUN mkdir -p /data /shared && chown node:node /data /shared
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]

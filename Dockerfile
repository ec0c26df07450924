# atlas-chat server image. Build: docker build -t atlas-chat .
# Run:   docker run -p 3000:3000 -v atlas-data:/data atlas-chat      (see docs/deployment.md)

# --- build: compiles better-sqlite3 (python3, make and g++ are in the full image), the server and the web app
FROM node:20-bookworm AS build
WORKDIR /app
# Compile better-sqlite3 here instead of fetching a prebuilt binary from GitHub: works without
# that download (our registry mirror serves none) and matches this image's glibc by construction.
ENV npm_config_build_from_source=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.js scripts/
COPY shared shared
COPY server server
COPY client client
COPY drizzle drizzle
COPY web web
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 # TypeScript (23 MB) is a peer dependency of @trpc/client and @trpc/server, for their types only.
 && rm -rf node_modules/typescript \
 # better-sqlite3: keep the compiled addon, drop what it was built from (SQLite's sources, objects).
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv better_sqlite3.node build/Release/

# --- run: the slim image, production dependencies and the build outputs only
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_PATH=/data/atlas-chat.db
WORKDIR /app
# Owned by root and read-only to the server's user: the only place it writes is /data.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/drizzle drizzle
COPY --from=build /app/web/dist web/dist
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks /healthz (200 once the database answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself as PID 1, not npm: SIGTERM (docker stop) reaches the server, which closes WebSockets,
# finishes in-flight requests and checkpoints the SQLite WAL before exiting 0.
CMD ["node", "dist/server.js"]

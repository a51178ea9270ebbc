# topicdesk production image. TypeScript runs through tsx (a runtime dependency): no build step,
# and the source in the image is the source in the repository.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; install scripts are approved in package.json (allowScripts).
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS app
ENV NODE_ENV=production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY openapi ./openapi
COPY src ./src
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD curl -fs http://127.0.0.1:3000/readyz || exit 1
# Migrations run at start-up under an advisory lock, so several replicas may start together.
CMD ["node", "--import", "tsx", "src/main.ts"]

#!/usr/bin/env bash
# make docker-check: build the newsbot image here and use it as a user would.
#
#  1. Installs docker.io, debootstrap and docker-compose (apt) and starts dockerd when
#     they are missing; builds the base image with docker/base.sh where Docker Hub is
#     unreachable, and puts the local CPU torch wheel in docker/wheels/.
#  2. Builds the image (docker build --network host).
#  3. Offline (--network none): ingests samples/ into a volume, then asks the seed
#     question in another container; checks the user is not root and /data is a volume.
#  4. Runs the bot (long polling) against the test Bot API emulator on 127.0.0.1 (the
#     container on --network host): it turns healthy and answers; frozen with SIGSTOP
#     and its heartbeat aged, it turns unhealthy; after SIGCONT healthy again; after a
#     container restart it still answers from the same index.
#  5. docker compose with a Chroma server, PostgreSQL and HAProxy (stand-ins where Docker
#     Hub is unreachable: chromadb's own `chroma run`, Debian's postgresql and haproxy;
#     docker/chroma/, docker/postgres/, docker/balancer/): the one-shot ingest fills
#     Chroma, both bot replicas (webhook mode) turn healthy, questions posted through the
#     balancer go to each replica in turn and are answered, the state (updates taken,
#     chats, the leader's lease) is in Postgres, `compose run ingest newsbot ask` answers
#     with none of the bot's secrets set; after down and up the index, the state and the
#     answers are there.
# Needs root (apt, dockerd) only when something is missing. Cleans up its containers,
# volumes and processes; keeps the images, so a second run skips the builds it can.
# Settings: BASE_IMAGE (default local/python:3.11-bookworm, built here; python:3.11-slim
# where Docker Hub works), IMAGE (newsbot:check), CHROMA_IMAGE (local/chroma:1.5.9),
# POSTGRES_IMAGE (local/postgres:15), BALANCER_IMAGE (local/haproxy:2.6).
set -euo pipefail

cd "$(dirname "$0")/.."
START=$(date +%s)
BASE_IMAGE=${BASE_IMAGE:-local/python:3.11-bookworm}
IMAGE=${IMAGE:-newsbot:check}
CHROMA_VERSION=${CHROMADB_VERSION:-1.5.9}
CHROMA_IMAGE=${CHROMA_IMAGE:-local/chroma:$CHROMA_VERSION}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-local/postgres:15}
BALANCER_IMAGE=${BALANCER_IMAGE:-local/haproxy:2.6}
TORCH=${TORCH:-torch==2.13.0}
P=newsbot-check                       # prefix of every container, volume and project
TOKEN=7000000001:AAE-newsbot-emulator-token   # the emulator's fake bot token
QUESTION="What did Shalom cite?"
EXPECT=Dolphinarium
LOGS=$(mktemp -d /tmp/newsbot-check.XXXXXX)
PIDS=()
RESULTS=()

elapsed() { echo $(($(date +%s) - START)); }
step() { printf '\n== [%4ss] %s\n' "$(elapsed)" "$*"; }
ok() { RESULTS+=("ok   $*"); echo "   ok: $*"; }
fail() {
    echo "docker-check: FAIL: $*" >&2
    exit 1
}
size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.2f GB", $1/1e9}'; }

COMPOSE=()
compose() { "${COMPOSE[@]}" -p "$P" -f docker-compose.yml -f docker/compose.check.yml "$@"; }

cleanup() {
    local rc=$?
    set +e
    if [ ${#COMPOSE[@]} -gt 0 ]; then compose down -v --remove-orphans >/dev/null 2>&1; fi
    docker ps -aq --filter "name=^$P-" | xargs -r docker rm -f >/dev/null 2>&1
    docker volume ls -q --filter "name=^$P-" | xargs -r docker volume rm >/dev/null 2>&1
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [ $rc -ne 0 ]; then
        echo "docker-check: failed after $(elapsed)s; logs in $LOGS" >&2
    else
        rm -rf "$LOGS"
    fi
}
trap cleanup EXIT

# Wait until CMD... succeeds, at most $1 seconds.
wait_for() {
    local timeout=$1
    shift
    local deadline=$(($(date +%s) + timeout))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 1
    done
}
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null; }
is_health() { [ "$(health "$1")" = "$2" ]; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --------------------------------------------------------------------------- emulator
EMU_PORT=
emulator_start() {
    if [ ! -d tests/emulator/node_modules/telegram-test-api ]; then
        (cd tests/emulator && npm ci --no-audit --no-fund --loglevel=error)
    fi
    EMU_PORT=$(free_port)
    node tests/emulator/launch.js --port "$EMU_PORT" >"$LOGS/emulator.log" 2>&1 &
    PIDS+=($!)
    wait_for 20 curl -fs -o /dev/null "http://127.0.0.1:$EMU_PORT/emulator/health" ||
        fail "the emulator did not start: $(cat "$LOGS/emulator.log")"
}
# Send QUESTION as user $1 and wait for the bot's answer containing EXPECT in that chat.
ask_bot() {
    local user=$1 before
    before=$(bot_messages "$user" | wc -l)
    curl -fsS -o /dev/null -H 'content-type: application/json' \
        -d "{\"token\": \"$TOKEN\", \"text\": \"$QUESTION\", \"user_id\": $user}" \
        "http://127.0.0.1:$EMU_PORT/sendMessage" || fail "the emulator refused the message"
    local deadline=$(($(date +%s) + 90))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if bot_messages "$user" | tail -n +"$((before + 1))" | grep -q "$EXPECT"; then
            bot_messages "$user" | tail -n 1 | cut -c1-110 | sed 's/^/   bot: /'
            return 0
        fi
        sleep 1
    done
    return 1
}
# The bot's messages in chat $1, one a line (latest state, edits applied).
bot_messages() {
    curl -fsS -H 'content-type: application/json' \
        -d "{\"token\": \"$TOKEN\", \"chat_id\": $1}" "http://127.0.0.1:$EMU_PORT/emulator/history" |
        python3 -c 'import json, sys
for m in json.load(sys.stdin)["result"]["messages"]:
    if m["from"]["is_bot"]:
        print(" ".join(m.get("text", "").split()))'
}

# =========================================================================== 1. tools
step "tools: docker, debootstrap, compose, node"
missing=()
command -v docker >/dev/null || missing+=(docker.io)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
    missing+=(docker-compose)
fi
command -v node >/dev/null || missing+=(nodejs npm)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || fail "missing ${missing[*]}; run as root or install them"
    echo "   installing: ${missing[*]}"
    apt-get update -q >"$LOGS/apt.log" 2>&1 || fail "apt-get update failed: $LOGS/apt.log"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(printf '%s\n' "${missing[@]}" | sort -u) \
        >>"$LOGS/apt.log" 2>&1 || fail "apt-get install failed: $LOGS/apt.log"
fi
if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || fail "dockerd isn't running and this isn't root"
    echo "   starting dockerd (log: /var/log/newsbot-dockerd.log)"
    nohup dockerd >/var/log/newsbot-dockerd.log 2>&1 &
    wait_for 60 docker info >/dev/null 2>&1 || fail "dockerd did not start: /var/log/newsbot-dockerd.log"
fi
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
echo "   docker $(docker version -f '{{.Server.Version}}'), compose: ${COMPOSE[*]} $("${COMPOSE[@]}" version --short 2>/dev/null || true)"
# leftovers of an interrupted run
docker ps -aq --filter "name=^$P-" | xargs -r docker rm -f >/dev/null
compose down -v --remove-orphans >/dev/null 2>&1 || true
docker volume ls -q --filter "name=^$P-" | xargs -r docker volume rm >/dev/null

# =========================================================================== 2. build
step "base image $BASE_IMAGE"
if [[ $BASE_IMAGE == local/* ]]; then
    docker/base.sh "$BASE_IMAGE"
elif ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    docker pull "$BASE_IMAGE"
fi

step "torch wheel in docker/wheels/"
if ! ls docker/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then
    # Where pip here has a CPU build of torch (this kind of machine), the image uses it;
    # otherwise the Dockerfile takes torch from PyTorch's CPU index.
    python3 -m pip download --quiet --no-deps "$TORCH" -d docker/wheels >"$LOGS/torch.log" 2>&1 || true
    if ! ls docker/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then
        rm -f docker/wheels/torch-*.whl
        echo "   no CPU torch wheel from pip here: the build uses PyTorch's CPU index"
    fi
fi
ls docker/wheels/*.whl 2>/dev/null | sed 's/^/   /' || true

step "docker build $IMAGE"
build_start=$(date +%s)
docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" . >"$LOGS/build.log" 2>&1 ||
    { tail -30 "$LOGS/build.log" >&2; fail "docker build failed ($LOGS/build.log)"; }
BUILD_S=$(($(date +%s) - build_start))
SIZE=$(size_of "$IMAGE")
ok "image $IMAGE built in ${BUILD_S}s, $SIZE"

# =========================================================================== 3. offline CLI
step "offline CLI: ingest and ask with --network none"
docker volume create "$P-data" >/dev/null
docker run --rm --network none -v "$P-data:/data" -v "$PWD/samples:/articles:ro" \
    "$IMAGE" newsbot ingest /articles >"$LOGS/ingest.log" 2>&1 ||
    fail "ingest failed: $(cat "$LOGS/ingest.log")"
sed 's/^/   /' "$LOGS/ingest.log"
grep -q '1 new' "$LOGS/ingest.log" || fail "ingest did not add the sample"
docker run --rm --network none -v "$P-data:/data" "$IMAGE" newsbot ask "$QUESTION" >"$LOGS/ask.log" 2>&1 ||
    fail "ask failed: $(cat "$LOGS/ask.log")"
head -n 1 "$LOGS/ask.log" | cut -c1-110 | sed 's/^/   /'
grep -q "$EXPECT" "$LOGS/ask.log" && grep -q '\[1\]' "$LOGS/ask.log" ||
    fail "ask did not answer with the $EXPECT sentence and [1]: $(cat "$LOGS/ask.log")"
ok "offline ingest, then ask in a new container: answered from the volume with [1]"

uid=$(docker run --rm --network none "$IMAGE" id -u)
[ "$uid" != 0 ] || fail "the image runs as root"
ok "runs as uid $uid, not root"
docker image inspect -f '{{json .Config.Volumes}}' "$IMAGE" | grep -q '"/data"' || fail "/data is not a VOLUME"
docker run --name "$P-anon" --network none "$IMAGE" true
dest=$(docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Destination}}{{end}}{{end}}' "$P-anon")
docker rm -v "$P-anon" >/dev/null
[ "$dest" = /data ] || fail "a container without -v gets no volume at /data"
ok "/data is a volume (a container without -v gets one)"

# =========================================================================== 4. bot
step "bot against the emulator (--network host), health check"
emulator_start
docker run -d --name "$P-bot" --network host -v "$P-data:/data" \
    -e TELEGRAM_BOT_TOKEN="$TOKEN" -e TELEGRAM_API_BASE="http://127.0.0.1:$EMU_PORT" \
    --health-interval=2s --health-timeout=5s --health-retries=2 --health-start-period=120s \
    "$IMAGE" >/dev/null
wait_for 120 is_health "$P-bot" healthy ||
    fail "the bot did not turn healthy ($(health "$P-bot")): $(docker logs --tail 20 "$P-bot" 2>&1)"
ok "the running bot turned healthy"
bot_uid=$(docker exec "$P-bot" python -c 'import os; print(os.stat("/proc/1").st_uid)')
[ "$bot_uid" != 0 ] || fail "the bot process runs as root"
ok "the bot process (PID 1) runs as uid $bot_uid"
ask_bot 4201 || fail "the bot did not answer: $(docker logs --tail 20 "$P-bot" 2>&1)"
ok "the bot answered through the emulator"

pid=$(docker inspect -f '{{.State.Pid}}' "$P-bot")
kill -STOP "$pid"
# a frozen event loop stops touching the heartbeat; age it instead of waiting 90 s
docker exec "$P-bot" touch -d '-5 minutes' /tmp/newsbot-heartbeat
wait_for 30 is_health "$P-bot" unhealthy || { kill -CONT "$pid"; fail "a stuck bot stayed $(health "$P-bot")"; }
ok "the stuck bot (SIGSTOP, heartbeat 5 min old) turned unhealthy"
kill -CONT "$pid"
wait_for 60 is_health "$P-bot" healthy || fail "the resumed bot stayed $(health "$P-bot")"
ok "resumed (SIGCONT), it touched the heartbeat and turned healthy again"

docker restart "$P-bot" >/dev/null
wait_for 120 is_health "$P-bot" healthy || fail "the restarted bot did not turn healthy"
ask_bot 4202 || fail "the restarted bot did not answer: $(docker logs --tail 20 "$P-bot" 2>&1)"
ok "after docker restart the bot answered from the same index"
docker rm -f "$P-bot" >/dev/null

# =========================================================================== 5. compose
step "compose: Chroma ($CHROMA_IMAGE), Postgres ($POSTGRES_IMAGE), two replicas, $BALANCER_IMAGE"
# Build a local stand-in ($1: image, $2: its folder under docker/), or pull the image.
stand_in() {
    docker image inspect "$1" >/dev/null 2>&1 && return 0
    if [[ $1 == local/* ]]; then
        docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" \
            --build-arg CHROMADB_VERSION="$CHROMA_VERSION" -t "$1" "docker/$2" \
            >"$LOGS/$2-build.log" 2>&1 || fail "building the $2 stand-in failed: $LOGS/$2-build.log"
    else
        docker pull "$1"
    fi
}
stand_in "$CHROMA_IMAGE" chroma
stand_in "$POSTGRES_IMAGE" postgres
stand_in "$BALANCER_IMAGE" balancer
# The replicas reach the emulator (127.0.0.1 only) through a forwarder on the host-gateway
# address of docker's default bridge; the emulator posts updates to the balancer's port.
GATEWAY=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}')
FWD_PORT=$(free_port)
python3 docker/forward.py "$GATEWAY:$FWD_PORT" "127.0.0.1:$EMU_PORT" >"$LOGS/forward.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q READY "$LOGS/forward.log" || fail "the forwarder did not start: $(cat "$LOGS/forward.log")"
HOOK_PORT=$(free_port)
export CHROMA_IMAGE POSTGRES_IMAGE BALANCER_IMAGE NEWSBOT_IMAGE="$IMAGE" \
    NEWSBOT_ARTICLES="$PWD/samples" NEWSBOT_PUBLISH="127.0.0.1:$HOOK_PORT" BASE_IMAGE \
    POSTGRES_PASSWORD="check-$RANDOM$RANDOM"
bot_env=(TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_WEBHOOK_SECRET=newsbot-check-secret
    NEWSBOT_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/telegram"
    TELEGRAM_API_BASE="http://host.docker.internal:$FWD_PORT")
SERVICES=(chroma postgres bot-1 bot-2 balancer)
# Both replicas healthy and running with --webhook.
replicas_healthy() {
    local replica id
    for replica in bot-1 bot-2; do
        id=$(compose ps -q "$replica")
        wait_for 150 is_health "$id" healthy ||
            fail "$replica did not turn healthy ($(health "$id")): $(docker logs --tail 20 "$id" 2>&1)"
        docker exec "$id" cat /proc/1/cmdline | tr '\0' ' ' | grep -q -- '--webhook http://127.0.0.1' ||
            fail "$replica does not run with --webhook"
    done
}
# SQL against the state database, inside the postgres container; one value a line.
state_sql() { compose exec -T postgres psql -U newsbot -d newsbot -Atc "$1"; }
# Which replica the balancer sent each posted update to, in order (its httplog lines).
routed() {
    docker logs "$(compose ps -q balancer)" 2>&1 | grep '"POST /telegram' |
        grep -o 'bots/bot-[0-9]' | cut -d/ -f2
}
# Ask as users $@, one after another, through the balancer; each must be answered.
ask_through_balancer() {
    local user
    for user in "$@"; do
        ask_bot "$user" || fail "user $user got no answer through the balancer: $(compose logs --tail 20 bot-1 bot-2 2>&1)"
    done
}

# no image builds here: compose uses $IMAGE, built above
env "${bot_env[@]}" "${COMPOSE[@]}" -p "$P" -f docker-compose.yml -f docker/compose.check.yml \
    up -d --no-build >"$LOGS/compose-up.log" 2>&1 || fail "compose up failed: $(cat "$LOGS/compose-up.log")"
ingest_id=$(compose ps -a -q ingest)
[ -n "$ingest_id" ] || fail "no ingest container"
[ "$(docker wait "$ingest_id")" = 0 ] || fail "the one-shot ingest failed: $(docker logs "$ingest_id" 2>&1 | tail -20)"
docker logs "$ingest_id" 2>&1 | tail -n 1 | sed 's/^/   ingest: /'
docker logs "$ingest_id" 2>&1 | grep -q '1 new' || fail "the one-shot ingest added nothing"
ok "compose up: the one-shot ingest filled the Chroma server"
replicas_healthy
ok "both replicas (bot-1, bot-2) in webhook mode turned healthy (heartbeat and port 8443)"
curl -fsS "http://127.0.0.1:$EMU_PORT/bot$TOKEN/getWebhookInfo" | grep -q "127.0.0.1:$HOOK_PORT/telegram" ||
    fail "the replicas did not set their webhook (the balancer's URL) at the emulator"
ask_through_balancer 4301 4302 4303 4304
sent_to=$(routed | paste -sd' ' -)
[ "$sent_to" = "bot-1 bot-2 bot-1 bot-2" ] || [ "$sent_to" = "bot-2 bot-1 bot-2 bot-1" ] ||
    fail "the balancer did not send the 4 updates to bot-1 and bot-2 in turn: ${sent_to:-none logged}"
ok "4 questions posted through the balancer went to $sent_to, and were answered"
taken=$(state_sql "SELECT count(*) FROM updates") || fail "no updates table in Postgres"
chats=$(state_sql "SELECT count(*) FROM chats WHERE chat_id IN (4301, 4302, 4303, 4304)")
leaders=$(state_sql "SELECT count(*) FROM leases WHERE name = 'leader' AND \"until\" > extract(epoch FROM now())")
[ "$taken" -ge 4 ] && [ "$chats" = 4 ] && [ "$leaders" = 1 ] ||
    fail "the state is not shared in Postgres: $taken updates taken, $chats of 4 chats, $leaders leaders"
ok "the state is in Postgres: $taken updates taken, the 4 chats of both replicas, 1 leader"

# ask in a container against the servers, with none of the bot's secrets in the environment
env -u TELEGRAM_BOT_TOKEN -u TELEGRAM_WEBHOOK_SECRET -u NEWSBOT_WEBHOOK_URL \
    "${COMPOSE[@]}" -p "$P" -f docker-compose.yml -f docker/compose.check.yml \
    run --rm --no-deps ingest newsbot ask "$QUESTION" >"$LOGS/compose-ask.log" 2>&1 ||
    fail "compose run ingest newsbot ask failed: $(cat "$LOGS/compose-ask.log")"
grep -q "$EXPECT" "$LOGS/compose-ask.log" || fail "compose ask did not answer: $(cat "$LOGS/compose-ask.log")"
ok "compose run ingest newsbot ask answered from the server without the bot's secrets"

step "compose down, up again"
compose down >/dev/null 2>&1 || fail "compose down failed"
env "${bot_env[@]}" "${COMPOSE[@]}" -p "$P" -f docker-compose.yml -f docker/compose.check.yml \
    up -d --no-build "${SERVICES[@]}" >"$LOGS/compose-up2.log" 2>&1 || fail "compose up failed: $(cat "$LOGS/compose-up2.log")"
replicas_healthy
ask_through_balancer 4305 4306
"${COMPOSE[@]}" -p "$P" -f docker-compose.yml -f docker/compose.check.yml \
    run --rm --no-deps ingest newsbot ask "$QUESTION" >"$LOGS/compose-ask2.log" 2>&1 ||
    fail "ask after down/up failed: $(cat "$LOGS/compose-ask2.log")"
grep -q "$EXPECT" "$LOGS/compose-ask2.log" || fail "after down/up the index is gone: $(cat "$LOGS/compose-ask2.log")"
chats=$(state_sql "SELECT count(*) FROM chats WHERE chat_id BETWEEN 4301 AND 4306")
[ "$chats" = 6 ] || fail "after down/up Postgres holds $chats of the 6 chats"
ok "after down and up (no new ingest) the index, the state (6 chats) and the answers are there"
compose down -v >/dev/null 2>&1

# =========================================================================== summary
printf '\n== docker-check passed in %ss (image build %ss); image %s is %s\n' \
    "$(elapsed)" "$BUILD_S" "$IMAGE" "$SIZE"
printf '   %s\n' "${RESULTS[@]}"

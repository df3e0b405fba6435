#!/usr/bin/env bash
# Serve CNN Explorer to a class on a LAN: N app processes behind nginx with TLS.
#
#   serve/serve_lan.sh [N_PROCESSES=2] [PORT=8443]
#
# Starts N app processes (`streamlit run asgi.py` each, forked from one launcher that imported
# the app: cnnviz/ui/prefork.py) on free loopback ports and Debian's nginx as this user's own
# process (no system service is touched) listening on https://0.0.0.0:PORT,
# with websocket proxying and cookie-sticky sessions (see serve/nginx.conf.template).
# Ctrl-C (or SIGTERM) stops everything. Environment (all optional):
#   CNNVIZ_CERT, CNNVIZ_KEY   a certificate and key to use; default: a self-signed one
#                             made with openssl at launch (students click through once)
#   CNNVIZ_LISTEN             address nginx listens on (default 0.0.0.0; tests: 127.0.0.1)
#   CNNVIZ_SERVE_DIR          folder for the config, logs, pid and temp files
#                             (default: a fresh temporary folder, removed at exit)
#   CNNVIZ_PYTHON             the Python with the app's dependencies (default .venv/bin/python)
set -euo pipefail

N=${1:-2}
PORT=${2:-8443}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LISTEN=${CNNVIZ_LISTEN:-0.0.0.0}
PY=${CNNVIZ_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "error: nginx is not installed (apt-get install -y nginx)" >&2; exit 2; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "error: N_PROCESSES must be a positive number, got '$N'" >&2; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "error: PORT must be a number, got '$PORT'" >&2; exit 2; }

if [ -n "${CNNVIZ_SERVE_DIR:-}" ]; then
    RUN=$CNNVIZ_SERVE_DIR; OWN_RUN=0; mkdir -p "$RUN"
else
    RUN=$(mktemp -d -t cnnviz-serve.XXXXXX); OWN_RUN=1
fi
RUN=$(cd "$RUN" && pwd)

PIDS=()
NGINX_PID=
TEMP=
cleanup() {
    trap - INT TERM EXIT
    echo "stopping ..." >&2
    # SIGQUIT: nginx's graceful stop; SIGTERM: Streamlit's.
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
        alive=0
        for p in "$NGINX_PID" "${PIDS[@]}"; do
            [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.2
    done
    for p in "$NGINX_PID" "${PIDS[@]}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "$TEMP" ] && rm -rf "$TEMP"
    # Keep the logs when something went wrong.
    if [ "$OWN_RUN" = 1 ] && [ "${KEEP_RUN:-0}" = 0 ]; then rm -rf "$RUN"; fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

# --- TLS: the given certificate, or a self-signed one for this machine's names ---------
if [ -n "${CNNVIZ_CERT:-}" ]; then
    CERT=$CNNVIZ_CERT; KEY=${CNNVIZ_KEY:?CNNVIZ_KEY must go with CNNVIZ_CERT}
else
    CERT=$RUN/cert.pem; KEY=$RUN/key.pem
    SAN="DNS:localhost,DNS:$(hostname),IP:127.0.0.1"
    for ip in $(hostname -I 2>/dev/null); do [[ "$ip" == *:* ]] || SAN="$SAN,IP:$ip"; done
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$(hostname)" \
        -addext "subjectAltName=$SAN" -keyout "$KEY" -out "$CERT" 2>/dev/null
fi

# --- the app processes, each on a free loopback port -----------------------------------
mapfile -t PORTS < <("$PY" - "$N" <<'PYEOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))
PYEOF
)
# nginx must accept any upload Streamlit accepts: its limit (MB) + room for the framing.
UPLOAD_MB=$(cd "$ROOT" && "$PY" -c 'import tomllib; print(tomllib.load(open(".streamlit/config.toml", "rb")).get("server", {}).get("maxUploadSize", 200))' 2>/dev/null || echo 200)
BODY_MB=$((UPLOAD_MB + 2))

# One malloc arena: each session thread's own would keep its freed memory (docs/PERFORMANCE.md).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
HOST_IP=$(hostname -I 2>/dev/null | awk '{print $1}')
[ "$LISTEN" = 0.0.0.0 ] && SHOWN=${HOST_IP:-localhost} || SHOWN=$LISTEN
# The address shared links and QR codes name: the app processes themselves listen on loopback.
[ "$SHOWN" = localhost ] || export CNNVIZ_PUBLIC_URL="${CNNVIZ_PUBLIC_URL:-https://$SHOWN:$PORT}"
SERVERS=""
for p in "${PORTS[@]}"; do SERVERS="$SERVERS        server 127.0.0.1:$p;\n"; done
# One launcher imports the app once and forks the N processes from it, so they share those
# ~400 MB; it forks a process that dies again (cnnviz/ui/prefork.py). Process i logs to app-i.log.
(cd "$ROOT" && exec "$PY" -m cnnviz.ui.prefork --logs "$RUN" "${PORTS[@]}" -- --server.address 127.0.0.1 \
    --server.headless true >"$RUN/apps.log" 2>&1) &
PIDS+=($!)
for i in "${!PORTS[@]}"; do
    for _ in $(seq 180); do
        curl -fsS "http://127.0.0.1:${PORTS[$i]}/_stcore/health" >/dev/null 2>&1 && break
        kill -0 "${PIDS[0]}" 2>/dev/null || { KEEP_RUN=1; echo "error: the app processes exited; see $RUN/apps.log" >&2; cat "$RUN/apps.log" >&2; exit 1; }
        sleep 0.5
    done
done

# --- nginx --------------------------------------------------------------------------
# nginx's workers write uploads and big responses to temp files: a fresh folder in /tmp,
# reachable even when RUN sits under a private folder.
TEMP=$(mktemp -d -t cnnviz-nginx-temp.XXXXXX)
mkdir -p "$TEMP"/{client_body,proxy,fastcgi,uwsgi,scgi}
USER_LINE=""
if [ "$(id -u)" = 0 ]; then
    # Started as root, nginx's workers drop to an unprivileged user: let it write there.
    USER_LINE="user nobody nogroup;"
    chmod 711 "$TEMP"; chown -R nobody:nogroup "$TEMP"/*
fi
sed -e "s|@RUN@|$RUN|g" -e "s|@TEMP@|$TEMP|g" -e "s|@USER_LINE@|$USER_LINE|" -e "s|@LISTEN@|$LISTEN|" -e "s|@PORT@|$PORT|" \
    -e "s|@CERT@|$CERT|" -e "s|@KEY@|$KEY|" -e "s|@BODY_MB@|$BODY_MB|" -e "s|@SERVERS@|${SERVERS%\\n}|" \
    "$ROOT/serve/nginx.conf.template" >"$RUN/nginx.conf"
"$NGINX" -t -q -c "$RUN/nginx.conf" -p "$RUN" -e "$RUN/error.log"
"$NGINX" -c "$RUN/nginx.conf" -p "$RUN" -e "$RUN/error.log" &
NGINX_PID=$!
for _ in $(seq 40); do
    curl -fsSk "https://127.0.0.1:$PORT/_stcore/health" >/dev/null 2>&1 && break
    kill -0 "$NGINX_PID" 2>/dev/null || { KEEP_RUN=1; echo "error: nginx exited; see $RUN/error.log" >&2; cat "$RUN/error.log" >&2; exit 1; }
    sleep 0.25
done

echo "CNN Explorer: https://$SHOWN:$PORT  ($N app processes on ports ${PORTS[*]}; logs in $RUN; Ctrl-C stops)"
# Stop everything as soon as any one process dies.
wait -n "$NGINX_PID" "${PIDS[@]}" || true
# Ctrl-C reaches nginx and the apps too, and one of them may exit before our INT trap has
# run: give the trap a moment before calling this a failure.
sleep 1
KEEP_RUN=1
echo "error: a process exited; see the logs in $RUN" >&2
exit 1

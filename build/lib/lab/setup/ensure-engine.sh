#!/usr/bin/env bash
# Make sure a Docker engine answers. As root on Debian, install what is missing (docker.io, debootstrap,
# python3-venv) from Debian's archive and start dockerd; elsewhere, say what the user has to install.
set -euo pipefail

engine_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }
is_root_on_debian() { [ "$(id -u)" -eq 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

missing=()
if is_root_on_debian; then
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    # debootstrap makes the Debian base image when no container registry answers.
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "engine: installing ${missing[*]} from Debian's archive"
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if engine_answers; then
    exit 0
fi

if ! is_root_on_debian; then
    cat >&2 <<'MSG'
engine: no Docker engine answers.
  Install Docker Engine (Linux: your distribution's docker package, e.g. `apt-get install docker.io`)
  or Docker Desktop (macOS, Windows), start it, and make sure `docker info` works for this user
  (on Linux: add yourself to the `docker` group, or point DOCKER_HOST at a running engine).
MSG
    exit 1
fi

echo "engine: starting dockerd"
if [ -d /run/systemd/system ]; then
    systemctl start docker
else
    # No init system here: run dockerd in its own session so it outlives this make.
    setsid nohup dockerd >/var/log/lab-dockerd.log 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
    if engine_answers; then
        echo "engine: $(docker version --format 'Docker {{.Server.Version}}') is up"
        exit 0
    fi
    sleep 1
done
echo "engine: dockerd did not answer within 60 s; its log: /var/log/lab-dockerd.log" >&2
tail -n 20 /var/log/lab-dockerd.log >&2 || true
exit 1

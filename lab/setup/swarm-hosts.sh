#!/usr/bin/env bash
# Test hosts for the lab's Swarm path, on this one machine: the main Docker engine is host 1; hosts 2..N
# are extra engines, each in its own network namespace with its own data root, socket and bridge, on a
# bridge 10.99.0.0/24 of their own. All of them join one swarm (the main engine manages it).
#
#   swarm-hosts.sh up N     start hosts 2..N and the swarm (a second `up` changes nothing)
#   swarm-hosts.sh down     remove all of it; the main engine's own containers are left alone
#
# Two traps, measured: each extra dockerd starts with `nsenter --net=` (under `ip netns exec`, /sys is
# remounted and dockerd fails with "Devices cgroup isn't mounted"), and each gets its own --bip,
# --exec-root, --pidfile and socket. The bridge must forward between the hosts (VXLAN, port 4789/udp).
set -euo pipefail

ACTION=${1:?usage: swarm-hosts.sh up N | down}
HOSTS=${2:-3}
BRIDGE=labswarm0
NET=10.99.0
STATE=/run/lab-swarm
DATA=/var/lib/lab-swarm
REGISTRY_PORT=5000  # the lab's registry for the test hosts (a container on the main engine)

say() { echo "swarm-hosts: $*"; }
host_socket() { echo "unix://$STATE/host-$1/docker.sock"; }
on_host() { local k=$1; shift; docker -H "$(host_socket "$k")" "$@"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "swarm-hosts: needs root (network namespaces, a bridge, extra Docker engines)" >&2
    exit 1
fi
if ! command -v socat >/dev/null && [ -f /etc/debian_version ]; then
    say "installing socat from Debian's archive (it forwards the registry's port to each host)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends socat >/dev/null
fi
for tool in ip nsenter dockerd iptables socat; do
    command -v "$tool" >/dev/null || { echo "swarm-hosts: $tool is missing (Debian: iproute2, util-linux, docker.io, iptables)" >&2; exit 1; }
done

up() {
    [ "$HOSTS" -ge 2 ] && [ "$HOSTS" -le 9 ] || { echo "swarm-hosts: HOSTS must be 2..9, not $HOSTS" >&2; exit 2; }
    mkdir -p "$STATE" "$DATA"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add "$NET.1/24" dev "$BRIDGE"
        ip link set "$BRIDGE" up
    fi
    iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
    # The hosts reach this machine's registry (on 127.0.0.1) through the bridge.
    if [ ! -f "$STATE/forwarder.pid" ] || ! kill -0 "$(cat "$STATE/forwarder.pid")" 2>/dev/null; then
        setsid socat "TCP-LISTEN:$REGISTRY_PORT,bind=$NET.1,fork,reuseaddr" "TCP:127.0.0.1:$REGISTRY_PORT" </dev/null >/dev/null 2>&1 &
        echo $! >"$STATE/forwarder.pid"
    fi
    for k in $(seq 2 "$HOSTS"); do
        local ns="labhost-$k" dir="$STATE/host-$k"
        mkdir -p "$dir" "$DATA/host-$k"
        if ! ip netns list | grep -qw "$ns"; then
            ip netns add "$ns"
            ip link add "lsw$k" type veth peer name eth0 netns "$ns"
            ip link set "lsw$k" master "$BRIDGE" up
            ip -n "$ns" addr add "$NET.$k/24" dev eth0
            ip -n "$ns" link set eth0 up
            ip -n "$ns" link set lo up
            ip -n "$ns" route add default via "$NET.1"
        fi
        # The registry is 127.0.0.1:5000 on every host (engines trust 127.0.0.0/8 without TLS).
        if [ ! -f "$dir/forwarder.pid" ] || ! kill -0 "$(cat "$dir/forwarder.pid")" 2>/dev/null; then
            nsenter --net="/run/netns/$ns" setsid socat "TCP-LISTEN:$REGISTRY_PORT,bind=127.0.0.1,fork,reuseaddr" \
                "TCP:$NET.1:$REGISTRY_PORT" </dev/null >/dev/null 2>&1 &
            echo $! >"$dir/forwarder.pid"
        fi
        if ! on_host "$k" info >/dev/null 2>&1; then
            say "starting the engine of host-$k ($NET.$k)"
            nsenter --net="/run/netns/$ns" setsid dockerd \
                --host "$(host_socket "$k")" \
                --data-root "$DATA/host-$k" \
                --exec-root "$dir/exec" \
                --pidfile "$dir/docker.pid" \
                --bip "10.99.$((100 + k)).1/24" \
                --cgroup-parent "lab-host-$k" \
                --insecure-registry "$NET.1:$REGISTRY_PORT" \
                --log-level warn \
                >"$dir/dockerd.log" 2>&1 </dev/null &
            for _ in $(seq 1 150); do on_host "$k" info >/dev/null 2>&1 && break; sleep 0.2; done
            on_host "$k" info >/dev/null 2>&1 || { echo "swarm-hosts: host-$k's engine did not start:" >&2; tail -5 "$dir/dockerd.log" >&2; exit 1; }
        fi
    done

    local state
    state=$(docker info --format '{{.Swarm.LocalNodeState}}')
    if [ "$state" = "inactive" ]; then
        say "the main engine starts a swarm on $NET.1"
        docker swarm init --advertise-addr "$NET.1" --listen-addr "$NET.1:2377" >/dev/null
        touch "$STATE/swarm-made-here"
    elif [ ! -f "$STATE/swarm-made-here" ]; then
        echo "swarm-hosts: the main engine is already in a swarm that these test hosts did not make; leave it first" >&2
        exit 1
    fi
    docker node update --label-add django-lab.host=host-1 "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
    local token
    token=$(docker swarm join-token -q worker)
    for k in $(seq 2 "$HOSTS"); do
        # A host still in a swarm the main engine has left (`docker swarm leave --force` by hand) leaves it first.
        if [ "$(on_host "$k" info --format '{{.Swarm.LocalNodeState}}')" != "active" ] \
            || ! docker node inspect "$(on_host "$k" info --format '{{.Swarm.NodeID}}')" >/dev/null 2>&1; then
            on_host "$k" swarm leave --force >/dev/null 2>&1 || true
            on_host "$k" swarm join --token "$token" --advertise-addr "$NET.$k" "$NET.1:2377" >/dev/null
        fi
        # The host's engine, so `lab down` can remove a lab's volumes there too.
        docker node update --label-add "django-lab.host=host-$k" --label-add "django-lab.engine=$(host_socket "$k")" \
            "$(on_host "$k" info --format '{{.Swarm.NodeID}}')" >/dev/null
    done
    # Ready before anything is scheduled: a host that joined a moment ago would get no task.
    for _ in $(seq 1 100); do
        [ "$(docker node ls --format '{{.Status}} {{.Availability}}' | grep -c '^Ready Active$')" -ge "$HOSTS" ] && break
        sleep 0.2
    done
    say "$HOSTS hosts in one swarm:"
    docker node ls --format '  {{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'
    say "engines: host-1 is this machine's; host-K answers at $(host_socket K)"
}

down() {
    for dir in "$STATE"/host-*; do
        [ -d "$dir" ] || continue
        local k=${dir##*-}
        on_host "$k" swarm leave --force >/dev/null 2>&1 || true
        [ -f "$dir/forwarder.pid" ] && kill "$(cat "$dir/forwarder.pid")" 2>/dev/null || true
        if [ -f "$dir/docker.pid" ]; then
            local pid
            pid=$(cat "$dir/docker.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        ip netns del "labhost-$k" 2>/dev/null || true
        ip link del "lsw$k" 2>/dev/null || true
        # What a stopped engine left mounted under its data root, then the root itself.
        grep -o " $DATA/host-$k[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$DATA/host-$k" "$dir"
        say "host-$k removed"
    done
    if [ -f "$STATE/swarm-made-here" ]; then
        docker swarm leave --force >/dev/null 2>&1 || true
        rm -f "$STATE/swarm-made-here"
        say "the main engine left the swarm"
    fi
    [ -f "$STATE/forwarder.pid" ] && kill "$(cat "$STATE/forwarder.pid")" 2>/dev/null || true
    rm -f "$STATE/forwarder.pid"
    iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || true
    ip link del "$BRIDGE" 2>/dev/null || true
    rmdir "$STATE" "$DATA" 2>/dev/null || true
    say "nothing left"
}

case "$ACTION" in
    up) up ;;
    down) down ;;
    *) echo "usage: swarm-hosts.sh up N | down" >&2; exit 2 ;;
esac

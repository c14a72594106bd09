"""channels-across-nodes: users of an ASGI site's WebSockets, spread over the nodes by nginx, chat in one
room of the lab's channel probe (/__lab__/ws): each sends one message; which users get it depends on the
site's channel layer. Needs a site with Django Channels (the probe uses the site's own layer)."""

import time

from lab.errors import ConfigError
from lab.studies.experiments.base import Case, Experiment
from lab.verdicts.rules import each_got_every_message, got_only_their_process

IN_MEMORY = "channels.layers.InMemoryChannelLayer"


class ChannelsAcrossNodes(Experiment):
    name = "channels-across-nodes"
    summary = "WebSocket users on every node chat in one room through the site's channel layer"
    cases = (Case("redis", "round_robin"),)
    quick = ()  # the lab's own sample site has no Channels; the suite runs it on a Channels site
    needs_channels = True  # the lab's own sample site is not an ASGI site

    def expect(self, case):
        return (
            "with a layer every machine shares (channels_redis), every user gets every message; with the "
            "in-memory layer, each user gets only the messages sent on its own process",
            "a group lives in the channel layer: in Redis for all, or in one process's memory",
        )

    def measure(self, lab, clients, case, outcome):
        frontend = lab.plan().frontend
        if not (frontend and frontend.websockets):
            raise ConfigError("channels-across-nodes needs an ASGI site with Django Channels (ASGI_APPLICATION)")
        started = time.time()
        chatters = clients.chat(room=f"exp{int(started)}", listen=3.0)
        layers = {c.get("layer") for c in chatters if c.get("layer")}
        connected = [c for c in chatters if c.get("node")]
        delivered = sum(len(c["received"]) for c in connected)
        outcome.figures = {
            "users": len(chatters),
            "connected": len(connected),
            "processes": len({c["node"] for c in connected}),
            "channel_layer": ", ".join(sorted(layers)) or "none",
            "messages_sent": len(connected),
            "messages_delivered": delivered,
            "deliveries_if_shared": len(connected) ** 2,
        }
        outcome.observed = (
            f"{len(connected)} users on {outcome.figures['processes']} processes ({outcome.figures['channel_layer']}): "
            f"{delivered} of {len(connected) ** 2} possible deliveries"
        )
        outcome.events = [(0.0, f"room exp{int(started)}: every user sends its name")]
        rule = got_only_their_process if layers == {IN_MEMORY} else each_got_every_message
        outcome.judge(rule(chatters))

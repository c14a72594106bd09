"""The lab's channel probe, a WebSocket at /__lab__/ws?room=NAME: every text a user sends goes to the
room's group through the site's channel layer, and every member of the group gets it with the node and
process that sent it and the one that delivered it. With a layer every machine shares (Redis), everyone
in the room gets every message; with the in-memory layer, only those on the sender's process do."""

import asyncio
import json
import os
from urllib.parse import parse_qs

WHERE = f"{os.environ.get('LAB_NODE', 'unknown')}/{os.getpid()}"


async def probe(scope, receive, send):
    await receive()  # websocket.connect
    try:
        from channels.layers import get_channel_layer
    except ImportError:
        await send({"type": "websocket.close", "code": 4404})  # no Channels: nothing to probe
        return
    layer = get_channel_layer()
    if layer is None:
        await send({"type": "websocket.close", "code": 4404})
        return
    room = parse_qs(scope.get("query_string", b"").decode()).get("room", ["lab"])[0]
    group = "lab-probe-" + "".join(c for c in room if c.isalnum() or c in "-_.")[:60]
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    kind = f"{type(layer).__module__}.{type(layer).__name__}"
    await send({"type": "websocket.accept", "headers": [(b"x-lab-node", WHERE.encode()), (b"x-lab-channel-layer", kind.encode())]})

    async def deliver():
        while True:
            message = await layer.receive(channel)
            payload = {"text": message.get("text"), "from": message.get("from"), "to": WHERE}
            await send({"type": "websocket.send", "text": json.dumps(payload)})

    delivering = asyncio.create_task(deliver())
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.receive" and event.get("text"):
                await layer.group_send(group, {"type": "lab.message", "text": event["text"], "from": WHERE})
            elif event["type"] == "websocket.disconnect":
                break
    finally:
        delivering.cancel()
        await layer.group_discard(group, channel)

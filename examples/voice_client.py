"""Hold a voice conversation with a voxa assistant from Python.

Start voxa first (``bash scripts/serve.sh``), then:

    .venv/bin/python examples/voice_client.py --business bakery \\
        --say "What are your opening hours?" --say "Do you sell bread?"

It starts a customer session through the HTTP API, joins the session's LiveKit
room with the returned token, speaks each sentence (synthesized offline with
Piper), and prints what the agent hears and answers. The business is created
if it does not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from voxa.voice.client import VoiceClient, caller_speech


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--business", default="bakery")
    parser.add_argument("--name", default="Sam")
    parser.add_argument("--say", action="append", default=[])
    args = parser.parse_args()
    lines = args.say or ["What are your opening hours?"]

    async with httpx.AsyncClient(base_url=args.url, timeout=60) as api:
        if (await api.get(f"/v1/businesses/{args.business}/public")).status_code == 404:
            created = await api.post("/v1/businesses", json={
                "name": args.business.title(), "slug": args.business,
                "owner": {"email": f"owner@{args.business}.example.com", "name": "Owner",
                          "password": "change-this-password"}})
            if created.status_code != 201:
                raise SystemExit(f"cannot create business {args.business!r}: {created.text}")
        r = await api.post("/v1/sessions", json={"role": "customer", "business": args.business,
                                                 "channel": "voice",
                                                 "customer": {"name": args.name}})
        r.raise_for_status()
        grant = r.json()
    if not grant["livekit"]:
        raise SystemExit("this voxa has no LiveKit server: install livekit-server "
                         "(bash scripts/serve.sh does) or set LIVEKIT_URL")
    client = VoiceClient(grant["livekit"]["url"], grant["livekit"]["token"])
    await client.connect()
    print(f"room {grant['room_name']}")
    if not await client.wait_for_agent(60) or not await client.wait_until_ready(60):
        raise SystemExit("no agent joined: is the voice worker running?")
    await client.wait_for(lambda: bool(client.agent_said()), 60)
    for text in client.agent_said():
        print(f"agent: {text}")
    # words said over the agent's first 3 s of speech are not heard: let it finish
    await client.wait_for_turn(60)
    for line in lines:
        print(f"you:   {line}")
        started = time.monotonic()
        ended = await client.say(*caller_speech(line))
        await client.wait_for(lambda t=ended: bool(client.agent_said(t)), 90)
        for heard in client.user_transcripts(started):
            print(f"  (agent heard: {heard})")
        await asyncio.sleep(2)
        for text in client.agent_said(ended):
            print(f"agent: {text}")
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())

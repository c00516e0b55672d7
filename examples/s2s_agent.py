#!/usr/bin/env python3
"""A voice agent in Python (PyGObject): microphone to s2sopenai to speaker,
printing transcripts and answering one tool.

    OPENAI_API_KEY=sk-... python3 examples/s2s_agent.py
    python3 examples/s2s_agent.py --url ws://127.0.0.1:8765 --input q.wav --output r.wav
"""
import argparse
import json

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

TOOLS = [{
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--input")
    ap.add_argument("--output")
    args = ap.parse_args()

    Gst.init(None)
    src = f'filesrc location="{args.input}" ! wavparse' if args.input else "autoaudiosrc"
    sink = f'wavenc ! filesink location="{args.output}"' if args.output else "autoaudiosink"
    pipeline = Gst.parse_launch(
        f"{src} ! audioconvert ! audioresample ! s2sopenai name=s2s ! "
        f"audioconvert ! audioresample ! {sink}")
    s2s = pipeline.get_by_name("s2s")
    s2s.set_property("tools", json.dumps(TOOLS))
    if args.url:
        s2s.set_property("url", args.url)

    loop = GLib.MainLoop()

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "s2s-transcript" and s.get_value("final"):
                print(f'{s.get_value("role")}: {s.get_value("text")}')
            elif s.get_name() == "s2s-tool-call":
                print(f'[tool] {s.get_value("name")}({s.get_value("arguments")})')
                s2s.emit("tool-result", s.get_value("call-id"),
                         json.dumps({"temperature_c": 18, "sky": "clear"}))
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print("error:", err.message)
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    pipeline.set_state(Gst.State.PLAYING)
    try:
        loop.run()
    finally:
        print("conversation:", s2s.get_property("history"))
        pipeline.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()

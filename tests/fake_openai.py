"""A scripted fake OpenAI-compatible server for contract tests (no real model, no network).

Each POST /v1/chat/completions pops the next scripted step:
``{"content": "..."}``, ``{"tool_call": ("name", {...args})}``, ``{"status": 500}`` or
``{"delay": seconds, ...}``, ``{"drop": True}`` (the connection is closed without a reply, as
when the model server crashes mid-request); a callable step gets the request JSON and returns a step.
Requests are recorded in ``server.requests`` for assertions.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake", "object":
                                                                 "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                req = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(req)
                step = fake.script.pop(0) if fake.script else {"status": 500}
                if callable(step):
                    step = step(req)
                if step.get("delay"):
                    time.sleep(step["delay"])
                if step.get("drop"):
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if step.get("status"):
                    self._send(step["status"], {"error": {"message": "scripted failure"}})
                    return
                msg = {"role": "assistant", "content": step.get("content")}
                if "tool_call" in step:
                    name, args = step["tool_call"]
                    msg["tool_calls"] = [{"id": "call_1", "type": "function",
                                          "function": {"name": name,
                                                       "arguments": json.dumps(args)}}]
                self._send(200, {"id": "x", "object": "chat.completion", "created": 0,
                                 "model": req.get("model", "fake"),
                                 "choices": [{"index": 0, "message": msg,
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                           "total_tokens": 15}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

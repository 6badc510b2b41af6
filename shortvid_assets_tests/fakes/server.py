"""A real local HTTP server for client tests: routes, recorded requests and scripted faults.

Faults are queued per route and consumed in order before the route's normal handler answers: an error
status with a body and headers (429 + Retry-After, 500, 403 quotaExceeded...), a slow answer (to trip the
client's timeout), a truncated or non-JSON body, or a dropped connection.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Response:
    """What a route answers: a JSON value or raw bytes, with status, headers and an optional delay."""

    status: int = 200
    json_body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False  # close the connection without answering


Handler = Callable[[Request, re.Match[str]], Response]


class FakeServer:
    """A threading HTTP server on 127.0.0.1 with regex routes; use as a context manager."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: dict[tuple[str, str], list[Response]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- setup -------------------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def fail(self, method: str, pattern: str, *responses: Response) -> None:
        """Queue responses that the route `pattern` gives before answering normally."""
        with self._lock:
            self._faults.setdefault((method, pattern), []).extend(responses)

    # --- inspection --------------------------------------------------------------------------------------

    def calls(self, method: str | None = None, path_pattern: str | None = None) -> list[Request]:
        regex = re.compile(f"^{path_pattern}$") if path_pattern else None
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (regex is None or regex.match(r.path))
        ]

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {
                    key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()
                }
                request = Request(
                    self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with server._lock:
                    server.requests.append(request)
                response = server._answer(request)
                if response.delay_s:
                    time.sleep(response.delay_s)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = (
                    response.raw if response.raw is not None else json.dumps(response.json_body).encode()
                )
                self.send_response(response.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(
                    BrokenPipeError, ConnectionResetError
                ):  # the client gave up (timeout)
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _dispatch

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # --- routing -----------------------------------------------------------------------------------------

    def _answer(self, request: Request) -> Response:
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if method != request.method or match is None:
                continue
            with self._lock:
                for (fault_method, pattern), queue in self._faults.items():
                    if fault_method == request.method and queue and re.match(f"^{pattern}$", request.path):
                        return queue.pop(0)
            return handler(request, match)
        return Response(
            404, {"error": {"code": 404, "message": f"no route for {request.method} {request.path}"}}
        )

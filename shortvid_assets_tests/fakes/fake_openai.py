"""A fake OpenAI API on 127.0.0.1 that speaks the real wire format, so tests drive the real SDK.

Endpoints: `/v1/chat/completions` (scripted per call), `/v1/audio/speech` (real WAV bytes,
streamed-style header with 0xFFFFFFFF sizes like the real API) and `/v1/audio/transcriptions`
(multipart in, `verbose_json` with word timestamps out). Like the real API it checks the bearer
key and rejects strict structured-output schemas that carry `default`, `minLength` or
`maxLength`, or whose objects do not list every property as required. Every request is recorded.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import math
import re
import struct
import threading
import time
import uuid
import wave
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shortvid_assets.domain.models import (
    HashtagCount,
    StylePattern,
    Theme,
    TopPerformer,
    TrendReport,
)

CHAT = "/v1/chat/completions"
SPEECH = "/v1/audio/speech"
TRANSCRIPTIONS = "/v1/audio/transcriptions"

FAKE_KEY = "sk-test-fake-0123456789abcdef"
SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06"}
SAMPLE_RATE = 24_000
SECONDS_PER_CHAR = 0.065  # how long the fake's speech lasts per input character
FORBIDDEN_STRICT_KEYWORDS = ("default", "minLength", "maxLength")


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name -> (filename, type, bytes)


@dataclass
class Reply:
    """A scripted HTTP answer; `delay_s` holds it back to provoke client timeouts."""

    status: int = 200
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Scripted = Reply | Callable[[RecordedRequest], Reply]


# --- reply builders in the real wire format ---


def chat_completion(
    content: str | None,
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    prompt_tokens: int = 800,
    completion_tokens: int = 400,
    refusal: str | None = None,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A chat completion body exactly as the API returns it."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake0001",
    }


def content_reply(content: str, *, prompt_tokens: int = 800, completion_tokens: int = 400) -> Scripted:
    """A successful completion whose text is `content`; the model echoes the request's (as a snapshot)."""

    def reply(request: RecordedRequest) -> Reply:
        model = SNAPSHOTS.get(request.json["model"], request.json["model"])
        body = chat_completion(
            content, model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return Reply(body=body)

    return reply


def refusal_reply(text: str = "I'm sorry, but I can't help with that request.") -> Reply:
    return Reply(body=chat_completion(None, refusal=text, completion_tokens=12))


def error_reply(
    status: int, message: str, *, type_: str, code: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """An error exactly as the API returns it: `{"error": {"message", "type", "param", "code"}}`."""
    return Reply(
        status=status,
        body={"error": {"message": message, "type": type_, "param": None, "code": code}},
        headers={"x-request-id": f"req_{uuid.uuid4().hex[:16]}", **(headers or {})},
    )


def rate_limited(retry_after_s: float = 0.05) -> Reply:
    return error_reply(
        429,
        "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): "
        f"Limit 3, Used 3, Requested 1. Please try again in {retry_after_s * 1000:.0f}ms.",
        type_="requests",
        code="rate_limit_exceeded",
        headers={
            "retry-after-ms": str(int(retry_after_s * 1000)),
            "retry-after": str(math.ceil(retry_after_s)),
        },
    )


def server_error() -> Reply:
    return error_reply(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type_="server_error",
    )


def slow(seconds: float, then: Scripted | str) -> Callable[[RecordedRequest], Reply]:
    """`then` (a reply, or chat content), answered only after `seconds`."""
    if isinstance(then, str):
        then = content_reply(then)

    def reply(request: RecordedRequest) -> Reply:
        answer = then(request) if callable(then) else then
        answer.delay_s = seconds
        return answer

    return reply


# --- audio ---


def sine_wav(duration_s: float, *, streamed_header: bool = True, frequency: float = 220.0) -> bytes:
    """Mono 16-bit 24 kHz WAV; with `streamed_header` its sizes are 0xFFFFFFFF like the real API's."""
    frames = int(duration_s * SAMPLE_RATE)
    samples = b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)))
        for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples)
    data = bytearray(buffer.getvalue())
    if streamed_header:
        data[4:8] = b"\xff\xff\xff\xff"
        data[40:44] = b"\xff\xff\xff\xff"
    return bytes(data)


def _wav_duration(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        declared = wav.getnframes()
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
    present = (len(data) - 44) // (width * channels)
    return min(declared, present) / rate


# --- the server ---


class FakeOpenAI:
    """The fake API in a background thread; use as a context manager and point `base_url` at it."""

    def __init__(self, api_key: str = FAKE_KEY, *, echo_key_in_errors: bool = False) -> None:
        self.api_key = api_key
        self.echo_key_in_errors = echo_key_in_errors
        self.requests: list[RecordedRequest] = []
        self.speech_duration_s: float | None = None  # None: SECONDS_PER_CHAR per input character
        self.streamed_wav_header = True
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._last_speech_text = ""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # scripting

    def script(self, path: str, *replies: Scripted) -> None:
        """Queue replies for `path`, answered in order before the endpoint's default behaviour."""
        self._scripts[path].extend(replies)

    def chat(self, *replies: Scripted | str) -> None:
        """Queue chat replies; a plain string is a successful completion with that content."""
        self.script(CHAT, *(content_reply(reply) if isinstance(reply, str) else reply for reply in replies))

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    # lifecycle

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.handle_error = lambda request, address: None  # clients that timed out close their sockets
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-openai", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # request handling

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        request = self._read(handler)
        with self._lock:
            self.requests.append(request)
        reply = self._answer(request)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if isinstance(reply.body, bytes):
            payload, content_type = reply.body, reply.headers.get("content-type", "application/octet-stream")
        else:
            payload, content_type = json.dumps(reply.body).encode(), "application/json"
        try:
            handler.send_response(reply.status)
            handler.send_header("content-type", content_type)
            handler.send_header("content-length", str(len(payload)))
            handler.send_header("openai-processing-ms", "12")
            for name, value in reply.headers.items():
                if name != "content-type":
                    handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _read(handler: BaseHTTPRequestHandler) -> RecordedRequest:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(handler.rfile.readline().strip(), 16)
                if size == 0:
                    handler.rfile.readline()
                    break
                body += handler.rfile.read(size)
                handler.rfile.readline()
        else:
            body = handler.rfile.read(int(headers.get("content-length") or 0))
        request = RecordedRequest(
            method=handler.command, path=handler.path.split("?")[0], headers=headers, body=body
        )
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json") and body:
            request.json = json.loads(body)
        elif content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"content-type: {content_type}\r\n\r\n".encode() + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True) or b""
                filename = part.get_filename()
                if filename is not None:
                    request.files[name] = (filename, part.get_content_type(), payload)
                else:
                    request.form.setdefault(name, []).append(payload.decode())
        return request

    def _answer(self, request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            sent = request.headers.get("authorization", "").removeprefix("Bearer ")
            shown = sent if self.echo_key_in_errors else f"{sent[:3]}*****{sent[-4:]}"
            return error_reply(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                type_="invalid_request_error",
                code="invalid_api_key",
            )
        if request.path == CHAT:
            problem = self.schema_problem(request.json or {})
            if problem:
                return error_reply(400, problem, type_="invalid_request_error", code="invalid_request_error")
        with self._lock:
            queued = self._scripts[request.path].popleft() if self._scripts[request.path] else None
        if queued is not None:
            return queued(request) if callable(queued) else queued
        if request.path == CHAT:
            return self._chat(request)
        if request.path == SPEECH:
            return self._speech(request)
        if request.path == TRANSCRIPTIONS:
            return self._transcription(request)
        return error_reply(404, f"Invalid URL (POST {request.path})", type_="invalid_request_error")

    def _chat(self, request: RecordedRequest) -> Reply:
        return error_reply(500, "fake OpenAI: no scripted chat reply left for this call", type_="fake_error")

    @staticmethod
    def schema_problem(body: dict[str, Any]) -> str | None:
        """What the real API would reject in a strict `json_schema` response format, or None."""
        response_format = body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return None
        spec = response_format["json_schema"]
        name = spec.get("name", "")

        def walk(node: Any, context: tuple[str, ...]) -> str | None:
            if isinstance(node, dict):
                for keyword in FORBIDDEN_STRICT_KEYWORDS:
                    if keyword in node and "properties" not in context[-1:]:
                        return (
                            f"Invalid schema for response_format '{name}': In context={context}, "
                            f"'{keyword}' is not permitted."
                        )
                properties = node.get("properties")
                if isinstance(properties, dict):
                    if node.get("additionalProperties") is not False:
                        return (
                            f"Invalid schema for response_format '{name}': In context={context}, "
                            "'additionalProperties' is required to be supplied and to be false."
                        )
                    missing = [key for key in properties if key not in node.get("required", [])]
                    if missing:
                        return (
                            f"Invalid schema for response_format '{name}': In context={context}, 'required' is "
                            "required to be supplied and to be an array including every key in properties. "
                            f"Missing '{missing[0]}'."
                        )
                for key, value in node.items():
                    problem = walk(value, (*context, key))
                    if problem:
                        return problem
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    problem = walk(value, (*context, str(index)))
                    if problem:
                        return problem
            return None

        if spec.get("strict") is not True:
            return None
        return walk(spec.get("schema", {}), ())

    def _speech(self, request: RecordedRequest) -> Reply:
        body = request.json or {}
        text = body.get("input", "")
        if not text or not body.get("model") or not body.get("voice"):
            return error_reply(
                400, "'input', 'model' and 'voice' are required", type_="invalid_request_error"
            )
        if body.get("response_format", "mp3") != "wav":
            return error_reply(400, "the fake speaks wav only", type_="invalid_request_error")
        self._last_speech_text = text
        duration = self.speech_duration_s or max(1.0, len(text) * SECONDS_PER_CHAR)
        audio = sine_wav(duration, streamed_header=self.streamed_wav_header)
        return Reply(body=audio, headers={"content-type": "audio/wav"})

    def _transcription(self, request: RecordedRequest) -> Reply:
        upload = request.files.get("file")
        model = (request.form.get("model") or [""])[0]
        if upload is None or not model:
            return error_reply(400, "'file' and 'model' are required", type_="invalid_request_error")
        try:
            duration = _wav_duration(upload[2])
        except (wave.Error, EOFError) as exc:
            return error_reply(400, f"Invalid file format: {exc}", type_="invalid_request_error")
        text = self._last_speech_text
        response_format = (request.form.get("response_format") or ["json"])[0]
        if response_format != "verbose_json":
            return Reply(body={"text": text, "usage": {"type": "duration", "seconds": math.ceil(duration)}})
        heard = [re.sub(r"[^\w']", "", word) for word in text.split()]
        heard = [word for word in heard if word]
        body: dict[str, Any] = {
            "task": "transcribe",
            "language": "english",
            "duration": round(duration, 2),
            "text": text,
            "segments": [],
            "usage": {"type": "duration", "seconds": math.ceil(duration)},
        }
        if "word" in request.form.get("timestamp_granularities[]", []):
            span = max(duration - 0.2, 0.1)
            total = sum(len(word) + 1 for word in heard) or 1
            position, words = 0.1, []
            for word in heard:
                step = span * (len(word) + 1) / total
                words.append(
                    {"word": word, "start": round(position, 2), "end": round(position + step * 0.9, 2)}
                )
                position += step
            body["words"] = words
        return Reply(body=body)


def running_fake(**options: Any) -> Iterator[FakeOpenAI]:
    """A started fake for pytest fixtures: `yield from running_fake()`."""
    with FakeOpenAI(**options) as fake:
        yield fake


# --- payloads used by the tests ---


def plan_dict(
    *,
    target_s: float = 20.0,
    hook_type: str = "question",
    style: str = "talking-head",
    hashtags: list[str] | None = None,
    scene_count: int | None = None,
) -> dict[str, Any]:
    """A plan in the wire schema that passes `VideoPlan` validation (scenes sum to `target_s`)."""
    count = scene_count or max(3, math.ceil(target_s / 4.0))
    durations = [round(target_s / count, 3)] * count
    durations[-1] = round(target_s - sum(durations[:-1]), 3)
    return {
        "title": "Is your morning coffee lying to you?",
        "description": "GlowBrew cold brew: smooth energy without the crash.",
        "master_visual_prompt": "Bright kitchen at sunrise, warm light, handheld close-ups",
        "target_duration_s": target_s,
        "aspect_ratio": "9:16",
        "scenes": [
            {
                "number": index + 1,
                "duration_s": duration,
                "visual_prompt": f"Scene {index + 1}: a glass of cold brew, slow push-in",
                "transition": "cut" if index == 0 else "fade",
            }
            for index, duration in enumerate(durations)
        ],
        "voiceover_script": (
            "Is your morning coffee lying to you? GlowBrew is cold brewed for twenty hours, "
            "so it tastes smooth and keeps you going without the crash. Try it tomorrow morning."
        ),
        "hook_text": "Is your morning coffee lying to you?",
        "hook_type": hook_type,
        "cta_text": "Try GlowBrew tomorrow morning",
        "text_overlays": [
            {
                "text": "Is your coffee lying?",
                "start_s": 0.0,
                "end_s": 2.5,
                "position": "top",
                "style": "hook",
            },
            {
                "text": "20-hour cold brew",
                "start_s": 3.0,
                "end_s": 8.0,
                "position": "center",
                "style": "body",
            },
            {
                "text": "Try GlowBrew",
                "start_s": round(target_s - 3.0, 3),
                "end_s": target_s,
                "position": "bottom",
                "style": "cta",
            },
        ],
        "hashtags": hashtags or ["coffee", "morningroutine", "coldbrew", "glowbrew", "energy"],
        "style": style,
        "trend_pattern": f"{style} · {hook_type} hook · ~{target_s:g} s",
    }


def plan_json(**options: Any) -> str:
    return json.dumps(plan_dict(**options))


def make_theme(**overrides: Any) -> Theme:
    fields: dict[str, Any] = {
        "slug": "glowbrew",
        "product_name": "GlowBrew",
        "tagline": "Cold brew that keeps up with you",
        "audience": "busy professionals aged 25-40",
        "tone": "upbeat, witty",
        "style": "cinematic",
        "talking_points": ["brewed cold for 20 hours", "smooth taste, no bitterness", "no afternoon crash"],
        "target_duration_s": 20.0,
        "platform": "all",
        "hashtags": ["glowbrew", "coldbrew"],
    }
    fields.update(overrides)
    return Theme(**fields)


def make_report(
    *,
    hook_type: str = "question",
    duration_s: float = 20.0,
    style: str = "talking-head",
    trend_count: int = 40,
) -> TrendReport:
    """A trend report dominated by `style` videos of about `duration_s` seconds with `hook_type` hooks."""
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    performers = [
        TopPerformer(
            platform="tiktok",
            external_id=f"v{index}",
            title=f"Top video {index}?",
            creator_name=f"creator{index}",
            velocity=1000.0 - index,
            views=500_000,
            duration_s=duration_s + index - 1,
            style=style,
            hook_type=hook_type,
            video_url=f"https://www.tiktok.com/@c/video/{index}",
        )
        for index in range(3)
    ]
    return TrendReport(
        date=date(2026, 11, 24),
        window_start=now.replace(day=23),
        window_end=now,
        trend_count=trend_count,
        counts_by_platform={"tiktok": trend_count // 2, "youtube": trend_count - trend_count // 2},
        top_hashtags=[
            HashtagCount(tag=tag, count=count)
            for tag, count in [
                ("morningroutine", 14),
                ("coffee", 11),
                ("productivity", 9),
                ("fyp", 8),
                ("wfh", 5),
            ]
        ],
        top_performers=performers,
        patterns=[
            StylePattern(
                style=style,
                count=24,
                share=0.6,
                avg_duration_s=duration_s,
                avg_velocity=800.0,
                format="single speaker to camera",
                hook_type=hook_type,
                text_overlay_share=0.8,
                audio_type="voiceover",
            )
        ],
        dominant_style=style,
        dominant_hook_type=hook_type,
        recommended_duration_s=duration_s,
        duration_histogram={"0-15": 5, "15-30": 30, "30-60": 5},
        posting_hour_histogram={"18": 12, "20": 10},
    )

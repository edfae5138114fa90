"""A fake Replicate HTTP API (api.replicate.com/v1) for the replicate SDK.

Speaks: models/{owner}/{name}/predictions (official models) and predictions (a version), polled with
predictions/{id} until succeeded / failed, predictions/{id}/cancel, and output files served like
replicate.delivery (no auth). Each model checks its inputs like the real schema (Kling: duration 5 or 10)
and answers 422 otherwise. Auth is "Authorization: Bearer"; errors are RFC 7807 problem details."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

from fakes import media
from fakes.http import Failure, GenerationServer, Request, Response, Route

KEY = "r8_test_token_0123456789abcdef"
MUSICGEN_VERSION = "671ac645ce5e552cc63a54a2bbff63fcf798043055d2dac5fc9e36a837eedcfb"
SENSITIVE = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def _data_uri_bytes(value: object) -> bytes | None:
    if isinstance(value, str) and value.startswith("data:"):
        return base64.b64decode(value.split(",", 1)[1])
    return None


def _flux_size(ratio: str) -> tuple[int, int]:
    w, _, h = ratio.partition(":")
    r = float(w) / float(h)
    width = round(math.sqrt(1_048_576 * r) / 16) * 16
    return width, round(width / r / 16) * 16


class ReplicateServer(GenerationServer):
    def __init__(self, *, key: str = KEY, polls_before_done: int = 2) -> None:
        super().__init__(key=key, polls_before_done=polls_before_done)
        self.predictions: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.active = 0
        """Predictions created and not yet finished: generations in flight."""
        self.max_active = 0
        self.route("create", "POST", r"/v1/models/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/predictions", self.create)
        self.route("create_version", "POST", r"/v1/predictions", self.create_version)
        self.route("get", "GET", r"/v1/predictions/(?P<id>\w+)", self.get)
        self.route("cancel", "POST", r"/v1/predictions/(?P<id>\w+)/cancel", self.cancel)
        self.route("file", "GET", r"/files/(?P<name>[\w.-]+)", self.file, auth=False)

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.key}"

    def unauthorised(self) -> Response:
        return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")

    def failure_response(self, failure: Failure, request: Request, route: Route) -> Response | None:
        if failure.kind in ("429", "500", "503"):
            code = int(failure.kind)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            title = "Too Many Requests" if code == 429 else "Internal Server Error"
            return _problem(code, title, "Request was throttled." if code == 429 else "Something went wrong", headers)
        if failure.kind == "bad_input":
            return _problem(422, "Input validation failed", "- input: the input is not valid")
        if failure.kind == "malformed":
            return Response(body=b'{"id": "p1", "status": "proce', headers={"Content-Type": "application/json"})
        return None

    # ------------------------------------------------------------ predictions

    def create(self, request: Request, match: re.Match[str]) -> Response:
        return self._start(model=f"{match['owner']}/{match['name']}", version="", request=request)

    def create_version(self, request: Request, match: re.Match[str]) -> Response:
        version = str(request.json().get("version", ""))
        model = "meta/musicgen" if version.endswith(MUSICGEN_VERSION) else ""
        if not model:
            return _problem(404, "Not found", "The requested version does not exist")
        return self._start(model=model, version=MUSICGEN_VERSION, request=request)

    def _start(self, *, model: str, version: str, request: Request) -> Response:
        inputs = request.json().get("input") or {}
        problem = self._check_inputs(model, inputs)
        if problem is not None:
            return _problem(422, "Input validation failed", problem)
        pid = f"p{self.next_id()}"
        record = {"id": pid, "model": model, "version": version or "official", "input": inputs, "logs": "",
                  "output": None, "error": None, "status": "starting", "created_at": "2025-01-01T00:00:00Z",
                  "urls": {"get": f"{self.url}/v1/predictions/{pid}",
                           "cancel": f"{self.url}/v1/predictions/{pid}/cancel"}}
        with self.generation_lock:
            self.predictions[pid] = {"record": record, "polls": 0, "fate": request.headers.get("x-fake-failure")}
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        return Response.json(record, status=201)

    def _check_inputs(self, model: str, inputs: dict[str, Any]) -> str | None:
        if model == "kwaivgi/kling-v2.1":
            if inputs.get("duration") not in (5, 10):
                return "- input.duration: duration must be one of the following: 5, 10"
            if not inputs.get("start_image"):
                return "- input: start_image is required"
        elif model == "bytedance/seedance-1-pro-fast":
            if not isinstance(inputs.get("duration"), int) or not 2 <= inputs["duration"] <= 12:
                return "- input.duration: must be an integer from 2 to 12"
        elif model == "black-forest-labs/flux-kontext-pro":
            if not inputs.get("input_image") or not inputs.get("prompt"):
                return "- input: prompt and input_image are required"
        elif model == "meta/musicgen":
            if not isinstance(inputs.get("duration"), int) or inputs["duration"] < 1:
                return "- input.duration: must be a positive integer"
        else:
            return f"- model {model} is not served by this fake"
        return None

    def get(self, request: Request, match: re.Match[str]) -> Response:
        with self.generation_lock:
            p = self.predictions.get(match["id"])
            if p is None:
                return _problem(404, "Not found", "The requested prediction does not exist")
            p["polls"] += 1
            record = p["record"]
            if record["status"] in ("succeeded", "failed", "canceled"):
                return Response.json(record)
            if p["polls"] <= self.polls_before_done:
                record.update(status="processing", logs=f"{min(99, 40 * p['polls'])}%|####      | 4/10 [00:01<00:01]")
                return Response.json(record)
        fate = p["fate"]
        with self.generation_lock:
            self.active -= 1
        if fate == "refuse":
            record.update(status="failed", error=SENSITIVE)
        elif fate == "failed":
            record.update(status="failed", error="Director: unexpected error handling prediction (E8765)")
        else:
            record.update(status="succeeded", output=self._output(record, fate=fate),
                          metrics={"predict_time": 12.5}, completed_at="2025-01-01T00:01:00Z")
        return Response.json(record)

    def _output(self, record: dict[str, Any], *, fate: str | None) -> Any:
        model, inputs, pid = record["model"], record["input"], record["id"]
        if model == "black-forest-labs/flux-kontext-pro":
            data = media.styled_picture(_data_uri_bytes(inputs["input_image"]) or b"",
                                        size=_flux_size(inputs.get("aspect_ratio", "1:1")))
            name = f"{pid}.png"
        elif model == "meta/musicgen":
            data = media.click_track(seconds=float(inputs["duration"]), bpm=120.0)
            name = f"{pid}.wav"
        else:
            image = _data_uri_bytes(inputs.get("start_image") or inputs.get("image"))
            frame = media.decode(image) if image else None
            h, w = frame.shape[:2] if frame is not None else (720, 1280)
            short = 360  # 720p, served at half size to keep the tests quick (same aspect ratio)
            scale = short / min(w, h)
            size = (round(w * scale / 2) * 2, round(h * scale / 2) * 2)
            data = media.clip(image, seconds=float(inputs["duration"]), width=size[0], height=size[1])
            name = f"{pid}.mp4"
        if fate == "not_video":
            data = media.NOT_A_VIDEO
        self.files[name] = data
        return f"{self.url}/files/{name}"

    def cancel(self, request: Request, match: re.Match[str]) -> Response:
        with self.generation_lock:
            p = self.predictions.get(match["id"])
            if p is None:
                return _problem(404, "Not found", "The requested prediction does not exist")
            p["record"].update(status="canceled")
            return Response.json(p["record"])

    def file(self, request: Request, match: re.Match[str]) -> Response:
        data = self.files.get(match["name"])
        if data is None:
            return _problem(404, "Not found", "no such file")
        return Response(body=data, headers={"Content-Type": "application/octet-stream"})


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status=status, body=json.dumps({"title": title, "detail": detail, "status": status}).encode(),
                    headers={"Content-Type": "application/problem+json", **(headers or {})})

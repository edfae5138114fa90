"""A fake OpenAI API (api.openai.com/v1) for the openai SDK.

Speaks: images/edits (multipart, answers b64_json), chat/completions (JSON-schema answers), videos
(multipart create with an input_reference that must match the size, retrieve until completed, and
videos/{id}/content). Auth is "Authorization: Bearer"; errors are {"error": {message, type, code}}."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from fakes import media
from fakes.http import Failure, GenerationServer, Request, Response, Route
from fakes.planner import default_proposal

KEY = "sk-test-openai-0123456789abcdef"

IMAGE_SIZES = {"1024x1024", "1536x1024", "1024x1536"}
VIDEO_SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024"}
VIDEO_SECONDS = {"4", "8", "12"}
SAFETY = "Your request was rejected as a result of our safety system."


class OpenAIServer(GenerationServer):
    def __init__(self, *, key: str = KEY, polls_before_done: int = 2) -> None:
        super().__init__(key=key, polls_before_done=polls_before_done)
        self.videos: dict[str, dict[str, Any]] = {}
        self.route("edit", "POST", r"/v1/images/edits", self.edit)
        self.route("chat", "POST", r"/v1/chat/completions", self.chat)
        self.route("video_create", "POST", r"/v1/videos", self.video_create)
        self.route("video_get", "GET", r"/v1/videos/(?P<id>[\w-]+)", self.video_get)
        self.route("video_content", "GET", r"/v1/videos/(?P<id>[\w-]+)/content", self.video_content)

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {self.key}"

    def unauthorised(self) -> Response:
        return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")

    def failure_response(self, failure: Failure, request: Request, route: Route) -> Response | None:
        if failure.kind in ("429", "500", "503"):
            code = int(failure.kind)
            headers = {"retry-after": failure.retry_after} if failure.retry_after is not None else {}
            kind = "rate_limit_exceeded" if code == 429 else "server_error"
            return _error(code, "Rate limit reached" if code == 429 else "The server had an error", kind, kind,
                          headers)
        if failure.kind == "refuse" and route.name == "edit":
            return _error(400, SAFETY, "image_generation_user_error", "moderation_blocked")
        if failure.kind == "bad_input":
            return _error(400, "Invalid value for 'size'.", "invalid_request_error", "invalid_value")
        if failure.kind == "malformed":
            return Response(body=b'{"id": "chatcmpl-1", "choices": [', headers={"Content-Type": "application/json"})
        return None

    # ------------------------------------------------------------ images

    def edit(self, request: Request, match: re.Match[str]) -> Response:
        form = request.form()
        image = (form.get("image") or form.get("image[]") or (None, b""))[1]
        size = form.get("size", (None, b"1024x1024"))[1].decode()
        if size not in IMAGE_SIZES:
            return _error(400, f"Invalid value: '{size}'.", "invalid_request_error", "invalid_value")
        w, h = (int(v) for v in size.split("x"))
        png = media.styled_picture(image, size=(w, h))
        return Response.json({
            "created": int(time.time()),
            "data": [{"b64_json": base64.b64encode(png).decode()}],
            "usage": {"input_tokens": 1200, "output_tokens": 1056, "total_tokens": 2256,
                      "input_tokens_details": {"image_tokens": 1100, "text_tokens": 100}},
        })

    # ------------------------------------------------------------ chat

    def chat(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json()
        refuse = request.headers.get("x-fake-failure") == "refuse"
        prompt = ""
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str):
                prompt += content + "\n"
            elif isinstance(content, list):
                prompt += "\n".join(p.get("text", "") for p in content if p.get("type") == "text") + "\n"
        with self.lock:
            text = self.plan_answers.popleft() if self.plan_answers else default_proposal(prompt)
        message = ({"role": "assistant", "content": None, "refusal": "I can't help with that."} if refuse
                   else {"role": "assistant", "content": text, "refusal": None})
        return Response.json({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 2400, "completion_tokens": 600, "total_tokens": 3000},
        })

    # ------------------------------------------------------------ videos

    def video_create(self, request: Request, match: re.Match[str]) -> Response:
        form = request.form()
        size = form.get("size", (None, b"720x1280"))[1].decode()
        seconds = form.get("seconds", (None, b"4"))[1].decode()
        if size not in VIDEO_SIZES or seconds not in VIDEO_SECONDS:
            return _error(400, f"Invalid size {size!r} or seconds {seconds!r}.", "invalid_request_error",
                          "invalid_value")
        reference = form.get("input_reference", (None, b""))[1]
        w, h = (int(v) for v in size.split("x"))
        if reference:
            frame = media.decode(reference)
            if frame.shape[1] != w or frame.shape[0] != h:
                return _error(400, "Inpaint image must match the requested width and height",
                              "invalid_request_error", "invalid_value")
        vid = f"video_{self.next_id()}"
        record = {"id": vid, "object": "video", "model": form.get("model", (None, b"sora-2"))[1].decode(),
                  "status": "queued", "progress": 0, "created_at": int(time.time()), "size": size,
                  "seconds": seconds, "prompt": form.get("prompt", (None, b""))[1].decode()}
        with self.generation_lock:
            self.videos[vid] = {"record": record, "polls": 0, "reference": reference or None,
                                "fate": request.headers.get("x-fake-failure")}
        return Response.json(record)

    def video_get(self, request: Request, match: re.Match[str]) -> Response:
        with self.generation_lock:
            video = self.videos.get(match["id"])
            if video is None:
                return _error(404, "No such video", "invalid_request_error", "not_found")
            video["polls"] += 1
            record = dict(video["record"])
            if video["polls"] <= self.polls_before_done:
                record.update(status="in_progress", progress=50)
            elif video["fate"] == "refuse":
                record.update(status="failed", error={"code": "moderation_blocked", "message": SAFETY})
            else:
                record.update(status="completed", progress=100, completed_at=int(time.time()))
        return Response.json(record)

    def video_content(self, request: Request, match: re.Match[str]) -> Response:
        video = self.videos.get(match["id"])
        if video is None:
            return _error(404, "No such video", "invalid_request_error", "not_found")
        if request.headers.get("x-fake-failure") == "not_video":
            return Response(body=media.NOT_A_VIDEO, headers={"Content-Type": "video/mp4"})
        w, h = (int(v) // 2 for v in video["record"]["size"].split("x"))
        data = media.clip(video["reference"], seconds=float(video["record"]["seconds"]), width=w, height=h)
        return Response(body=data, headers={"Content-Type": "video/mp4"})


def _error(status: int, message: str, kind: str, code: str | None,
           headers: dict[str, str] | None = None) -> Response:
    return Response.json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status,
                         headers=headers)

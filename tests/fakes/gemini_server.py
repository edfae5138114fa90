"""A fake Gemini Developer API (generativelanguage.googleapis.com/v1beta) for google-genai.

Speaks: models/{m}:generateContent (image editing with inline image data; JSON answers for a response
schema), models/{m}:predictLongRunning (Veo) with operations polled until done, and files/{id}:download.
Auth is the x-goog-api-key header; errors are Google's google.rpc.Status {"error": {code, message, status,
details}}.

Strict where the real API is (written from the v1beta API reference, not from what the SDK happens to
send): `generationConfig` and a `responseSchema` (an OpenAPI-subset Schema message) with a field the API
does not know are refused with 400 INVALID_ARGUMENT "Invalid JSON payload received. Unknown name ..." and a
google.rpc.BadRequest detail, as the protobuf JSON parser does (it takes a field's proto name or its
lowerCamelCase JSON name, nothing else); `responseSchema` and `responseJsonSchema` together, or a `$ref` in
a responseJsonSchema with sibling keywords, are refused as the reference says they must be. A 429 is
RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo details and no Retry-After header: the wait is the
RetryInfo's retryDelay (a protobuf Duration, "37s")."""

from __future__ import annotations

import base64
import re
from typing import Any

from fakes import media
from fakes.http import Failure, GenerationServer, Request, Response, Route
from fakes.planner import default_proposal

KEY = "test-gemini-key-0123456789"

# gemini-2.5-flash-image output sizes per aspect ratio (1024 px class).
IMAGE_SIZES = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
# Veo 720p, served at half size to keep the tests quick (same aspect ratio).
VIDEO_SIZES = {"16:9": (640, 360), "9:16": (360, 640)}
STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

# google.ai.generativelanguage.v1beta.GenerationConfig and Schema: their fields' proto names.
GENERATION_CONFIG_FIELDS = (
    "stop_sequences", "response_mime_type", "response_schema", "response_json_schema", "response_modalities",
    "candidate_count", "max_output_tokens", "temperature", "top_p", "top_k", "seed", "presence_penalty",
    "frequency_penalty", "response_logprobs", "logprobs", "enable_enhanced_civic_answers", "speech_config",
    "thinking_config", "image_config", "media_resolution",
)
SCHEMA_FIELDS = (
    "type", "format", "title", "description", "nullable", "enum", "max_items", "min_items", "properties",
    "required", "min_properties", "max_properties", "min_length", "max_length", "pattern", "example", "any_of",
    "property_ordering", "default", "items", "minimum", "maximum",
)
QUOTA_HELP = "https://ai.google.dev/gemini-api/docs/rate-limits"


def json_names(fields: tuple[str, ...]) -> frozenset[str]:
    """What the protobuf JSON parser accepts for `fields`: each proto name and its lowerCamelCase name."""
    camel = (re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f) for f in fields)
    return frozenset((*fields, *camel))


def unknown_schema_fields(schema: object, *, path: str) -> list[tuple[str, str]]:
    """(unknown field, where) for every field of a Schema message (and its sub-schemas) the API lacks."""
    if not isinstance(schema, dict):
        return []
    known = json_names(SCHEMA_FIELDS)
    found = [(name, path) for name in schema if name not in known]
    for index, sub in enumerate((schema.get("properties") or {}).values()):
        found += unknown_schema_fields(sub, path=f"{path}.properties[{index}].value")
    if "items" in schema:
        found += unknown_schema_fields(schema["items"], path=f"{path}.items")
    for index, sub in enumerate(schema.get("anyOf") or schema.get("any_of") or []):
        found += unknown_schema_fields(sub, path=f"{path}.any_of[{index}]")
    return found


def json_schema_problems(schema: object, *, path: str = "generation_config.response_json_schema") -> list[str]:
    """Where a responseJsonSchema breaks the reference's rule: "If $ref is set on a sub-schema, no other
    properties, except for those starting as a $, may be set"."""
    if isinstance(schema, list):
        return [p for i, sub in enumerate(schema) for p in json_schema_problems(sub, path=f"{path}[{i}]")]
    if not isinstance(schema, dict):
        return []
    problems = []
    if "$ref" in schema and (siblings := sorted(k for k in schema if not k.startswith("$"))):
        problems.append(f"{path}: $ref set together with {', '.join(siblings)}")
    for key, value in schema.items():
        if key in ("properties", "$defs") and isinstance(value, dict):
            for name, sub in value.items():
                problems += json_schema_problems(sub, path=f"{path}.{key}.{name}")
        elif key not in ("enum", "required", "propertyOrdering"):
            problems += json_schema_problems(value, path=f"{path}.{key}")
    return problems


def generation_config_error(config: dict[str, Any]) -> Response | None:
    """The API's 400 for a generationConfig it cannot take, or None."""
    unknown = [(name, "generation_config") for name in config if name not in json_names(GENERATION_CONFIG_FIELDS)]
    schema = config.get("responseSchema", config.get("response_schema"))
    unknown += unknown_schema_fields(schema, path="generation_config.response_schema")
    if unknown:
        violations = [{"field": where, "description": f"Invalid JSON payload received. Unknown name \"{name}\" at "
                                                      f"'{where}': Cannot find field."} for name, where in unknown]
        return _error(400, "\n".join(v["description"] for v in violations), "INVALID_ARGUMENT", details=[
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}])
    json_schema = config.get("responseJsonSchema", config.get("response_json_schema"))
    if schema is not None and json_schema is not None:
        return _error(400, "response_schema and response_json_schema cannot both be set: set one of them.",
                      "INVALID_ARGUMENT")
    if problems := json_schema_problems(json_schema):
        return _error(400, f"Invalid response_json_schema: {'; '.join(problems)}", "INVALID_ARGUMENT")
    return None


def rate_limited(*, model: str, retry_delay: str | None) -> Response:
    """Gemini's 429 as it comes: the quota that ran out, where to read about it, and (for a per-minute
    quota) how long to wait, in the body only."""
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": model}, "quotaValue": "10"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas", "url": QUOTA_HELP}]},
    ]
    message = ("You exceeded your current quota, please check your plan and billing details. For more "
               f"information on this error, head to: {QUOTA_HELP}.")
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        message += f" Please retry in {retry_delay}."
    return _error(429, message, "RESOURCE_EXHAUSTED", details=details)


class GeminiServer(GenerationServer):
    def __init__(self, *, key: str = KEY, polls_before_done: int = 2) -> None:
        super().__init__(key=key, polls_before_done=polls_before_done)
        self.operations: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.route("generate", "POST", r"/v1beta/models/(?P<model>[^/:]+):generateContent", self.generate)
        self.route("predict", "POST", r"/v1beta/models/(?P<model>[^/:]+):predictLongRunning", self.predict)
        self.route("operation", "GET", r"/v1beta/models/(?P<model>[^/]+)/operations/(?P<op>[^/]+)", self.operation)
        self.route("download", "GET", r"/v1beta/files/(?P<file>[a-z0-9]+):download", self.download)

    # ------------------------------------------------------------ formats

    def authorised(self, request: Request) -> bool:
        return request.headers.get("x-goog-api-key") == self.key

    def unauthorised(self) -> Response:
        return _error(403, "API key not valid. Please pass a valid API key.", "PERMISSION_DENIED")

    def failure_response(self, failure: Failure, request: Request, route: Route) -> Response | None:
        if failure.kind == "429":
            # `retry_after` is the RetryInfo's delay in seconds ("1" → retryDelay "1s"); Gemini sends no header.
            model = re.search(r"models/([^/:]+)", request.path)
            return rate_limited(model=model.group(1) if model else "gemini",
                                retry_delay=None if failure.retry_after is None else f"{failure.retry_after}s")
        if failure.kind in ("500", "503"):
            code = int(failure.kind)
            return _error(code, "Internal error" if code == 500 else "The model is overloaded.", STATUS[code])
        if failure.kind == "bad_input":
            return _error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        if failure.kind == "malformed":
            return Response(body=b'{"candidates": [{"content": {"parts": [{"inlineDa',
                            headers={"Content-Type": "application/json"})
        return None

    # ------------------------------------------------------------ generateContent

    def generate(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json()
        config = body.get("generationConfig", {})
        refused = generation_config_error(config)
        if refused is not None:
            return refused
        refuse = request.headers.get("x-fake-failure") == "refuse"
        if "IMAGE" in (config.get("responseModalities") or []):
            if refuse:
                return Response.json({"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                                      "usageMetadata": {"promptTokenCount": 300, "totalTokenCount": 300}})
            image = _first_inline(body)
            if image is None:
                return _error(400, "an image is required", "INVALID_ARGUMENT")
            ratio = (config.get("imageConfig") or {}).get("aspectRatio", "1:1")
            png = media.styled_picture(image, size=IMAGE_SIZES[ratio])
            part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()}}
            return Response.json({
                "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 560, "candidatesTokenCount": 1290, "totalTokenCount": 1850},
                "modelVersion": match["model"],
            })
        if refuse:
            return Response.json({"promptFeedback": {"blockReason": "SAFETY"},
                                  "usageMetadata": {"promptTokenCount": 900, "totalTokenCount": 900}})
        prompt = "\n".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
        with self.lock:
            text = self.plan_answers.popleft() if self.plan_answers else default_proposal(prompt)
        return Response.json({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP",
                            "index": 0}],
            "usageMetadata": {"promptTokenCount": 2400, "candidatesTokenCount": 600, "totalTokenCount": 3000},
            "modelVersion": match["model"],
        })

    # ------------------------------------------------------------ Veo

    def predict(self, request: Request, match: re.Match[str]) -> Response:
        body = request.json()
        instance = (body.get("instances") or [{}])[0]
        params = body.get("parameters") or {}
        image = instance.get("image") or {}
        op = f"op{self.next_id()}"
        with self.generation_lock:
            self.operations[op] = {
                "model": match["model"],
                "polls": 0,
                "seconds": float(params.get("durationSeconds", 8)),
                "size": VIDEO_SIZES[params.get("aspectRatio", "16:9")],
                "image": b64(image["bytesBase64Encoded"]) if image.get("bytesBase64Encoded") else None,
                "fate": request.headers.get("x-fake-failure"),
            }
        return Response.json({"name": f"models/{match['model']}/operations/{op}"})

    def operation(self, request: Request, match: re.Match[str]) -> Response:
        op_id = match["op"]
        with self.generation_lock:
            op = self.operations.get(op_id)
            if op is None:
                return _error(404, "operation not found", "NOT_FOUND")
            op["polls"] += 1
            done = op["polls"] > self.polls_before_done
        name = f"models/{op['model']}/operations/{op_id}"
        if not done:
            return Response.json({"name": name, "metadata": {"@type": "type.googleapis.com/Progress"}})
        if op["fate"] == "refuse":
            result = {"raiMediaFilteredCount": 1,
                      "raiMediaFilteredReasons": ["The input image may violate our policies on people."]}
        elif op["fate"] == "failed":
            return Response.json({"name": name, "done": True,
                                  "error": {"code": 13, "message": "Video generation failed unexpectedly."}})
        else:
            file_id = f"file{op_id}"
            with self.generation_lock:
                if file_id not in self.files:
                    w, h = op["size"]
                    self.files[file_id] = media.clip(op["image"], seconds=op["seconds"], width=w, height=h)
            uri = f"https://generativelanguage.googleapis.com/v1beta/files/{file_id}:download?alt=media"
            result = {"generatedSamples": [{"video": {"uri": uri}}]}
        return Response.json({"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": result,
        }})

    def download(self, request: Request, match: re.Match[str]) -> Response:
        if request.headers.get("x-fake-failure") == "not_video":
            return Response(body=media.NOT_A_VIDEO, headers={"Content-Type": "video/mp4"})
        data = self.files.get(match["file"])
        if data is None:
            return _error(404, "file not found", "NOT_FOUND")
        return Response(body=data, headers={"Content-Type": "video/mp4"})


def _first_inline(body: dict[str, Any]) -> bytes | None:
    for content in body.get("contents", []):
        for part in content.get("parts", []):
            inline = part.get("inlineData") or part.get("inline_data")
            if inline and inline.get("data"):
                return b64(inline["data"])
    return None


def b64(text: str) -> bytes:
    """Standard or URL-safe base64 (the SDK sends the URL-safe alphabet; the API takes both)."""
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))


def _error(code: int, message: str, status: str, *, details: list[dict[str, Any]] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return Response.json({"error": error}, status=code)

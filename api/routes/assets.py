"""A project's photos and song: upload (streamed, size- and type-checked), list, reorder, delete, and the
small pictures and waveforms the page shows. A photo has a role: `photo`, the video's own (a scene), or
`capture`, one of a product capture's many shots (issue 6) — those have their own limit, their own list,
and are only ever made into turntables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import Limits, Stores, UserAsset, UserProject
from api.errors import error_responses, http_error
from api.files import stored_file
from api.media import UndecodableError, UnsupportedMediaError, check_upload, song_waveform
from api.schemas import AssetOrder, AssetPublic, WaveformPublic
from api.uploads import MalformedUploadError, UploadTooLargeError, receive_file
from api.views import asset_public
from shared.projects import AssetRecord, AssetRole

router = APIRouter(tags=["assets"], responses=error_responses(401, 422))

CACHED = {"Cache-Control": "private, max-age=86400"}

Role = Annotated[AssetRole, Query(description=(
    "photo (default): the video's own photos and song; capture: photos of a product capture, for turntables "
    "only (their own limit, never a scene of the video)."))]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary",
                                            "description": "One photo or one song."}},
                }
            }
        },
    }
}


@router.post(
    "/projects/{project_id}/assets",
    status_code=201,
    openapi_extra=_UPLOAD_BODY,
    responses=error_responses(404, 409, 413, 415, 422, 429),
)
async def upload_asset(request: Request, project: UserProject, state: Stores, limits: Limits,
                       role: Role = "photo") -> AssetPublic:
    """One photo or one song, as multipart/form-data in a field named `file`. The body is streamed to
    disk and cut off at the size limit (413); a file that is neither a photo nor a song is a 415, one that
    cannot be decoded a 422 with the reason. A new song replaces the project's song. `?role=capture`: a
    photo of a product capture (a song there is a 415); past either limit (the video's photos, the
    captures) a 409. Too many uploads in a short time: 429, with Retry-After."""
    limits.take(user_id=project.user_id, action="upload")
    settings = state.settings
    try:
        received = await receive_file(request=request, folder=settings.uploads_dir, limit=settings.max_upload_bytes)
    except UploadTooLargeError as exc:
        raise http_error(413, str(exc), hint=exc.hint, headers={"Connection": "close"}) from None
    except MalformedUploadError as exc:
        raise http_error(415 if exc.wrong_type else 422, str(exc), hint=exc.hint) from None
    try:
        checked = await run_in_threadpool(
            check_upload, path=received.path, name=received.name, size=received.size, digest=received.digest,
            store=state.artifacts, settings=settings)
        if role == "capture" and checked.kind != "photo":
            raise UnsupportedMediaError(
                f"{received.name} is a song, not a photo: a product capture takes photos only",
                hint="upload the song without role=capture, or send photos taken around the product")
        asset: AssetRecord = await run_in_threadpool(
            state.projects.add_asset, project_id=project.id, kind=checked.kind, name=received.name,
            key=checked.key, size_bytes=received.size, thumb_key=checked.thumb_key, preview_key=checked.preview_key,
            width=checked.width, height=checked.height, duration=checked.duration, max_photos=settings.max_photos,
            role=role, max_captures=settings.max_captures)
    except UnsupportedMediaError as exc:
        raise http_error(415, str(exc), hint=exc.hint) from None
    except UndecodableError as exc:
        raise http_error(422, str(exc), hint=exc.hint) from None
    finally:
        received.path.unlink(missing_ok=True)
    return asset_public(asset)


@router.get("/projects/{project_id}/assets", responses=error_responses(404))
def list_assets(project: UserProject, state: Stores, role: Role = "photo") -> list[AssetPublic]:
    """`role=photo` (default): the video's photos in their order, then the song. `role=capture`: the
    product capture's photos, in upload order."""
    return [asset_public(a) for a in state.projects.list_assets(project_id=project.id, role=role)]


@router.put("/projects/{project_id}/assets/order", responses=error_responses(404, 409))
def reorder_assets(body: AssetOrder, project: UserProject, state: Stores) -> list[AssetPublic]:
    """Put the photos in this order; it must name every photo of the project once. An order set by hand
    is the user's choice: the project's `order` becomes `manual`, so the storyboard follows it rather than
    the capture times."""
    before = [a.id for a in state.projects.list_assets(project_id=project.id) if a.kind == "photo"]
    assets = state.projects.reorder_photos(project_id=project.id, asset_ids=body.asset_ids)
    if project.photo_order != "manual" and list(body.asset_ids) != before:
        state.projects.update_project(user_id=project.user_id, project_id=project.id,
                                      changes={"photo_order": "manual"})
    return [asset_public(a) for a in assets]


@router.delete("/projects/{project_id}/assets/{asset_id}", status_code=204, responses=error_responses(404))
def delete_asset(project: UserProject, asset: UserAsset, state: Stores) -> None:
    if asset.project_id != project.id:
        raise http_error(404, f"no such asset in this project: {asset.id}")
    state.projects.delete_asset(project_id=project.id, asset_id=asset.id)


@router.head("/assets/{asset_id}/thumbnail", include_in_schema=False)
@router.get("/assets/{asset_id}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, **error_responses(404)})
def asset_thumbnail(request: Request, asset: UserAsset, state: Stores) -> Response:
    """The photo, upright, long side at most 384, as a JPEG."""
    if asset.thumb_key is None:
        raise http_error(404, "a song has no thumbnail")
    return stored_file(request=request, store=state.artifacts, key=asset.thumb_key, media_type="image/jpeg",
                       headers=CACHED, missing="the thumbnail is gone from the store")


@router.get("/assets/{asset_id}/waveform", responses=error_responses(404, 422))
def asset_waveform(asset: UserAsset, state: Stores) -> WaveformPublic:
    """The whole song as 800 peaks (0..1), for drawing."""
    if asset.kind != "music":
        raise http_error(404, "only a song has a waveform")
    try:
        wave = song_waveform(store=state.artifacts, key=asset.key, scratch=state.settings.uploads_dir)
    except UndecodableError as exc:
        raise http_error(422, str(exc), hint=exc.hint) from None
    return WaveformPublic(**wave.model_dump())

"""Finished videos: the list, the MP4 (with HTTP Range) and its poster."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import CurrentUser, Stores, UserExport, UserProject
from api.errors import error_responses, http_error
from api.files import stored_file
from api.schemas import ExportPublic
from api.storyboard import export_stale, stale_reasons
from api.views import export_public

router = APIRouter(tags=["exports"], responses=error_responses(401, 404, 422))


@router.get("/projects/{project_id}/exports")
def list_exports(project: UserProject, state: Stores) -> list[ExportPublic]:
    """The project's videos, newest first; each says whether it shows the project as it is now (its
    storyboard as shown, in the current look, for the current photos, song and options) and if not, what
    changed since it was rendered."""
    exports = state.projects.list_exports(project_id=project.id)
    if not exports:
        return []
    assets = state.projects.list_assets(project_id=project.id)
    record = state.projects.get_plan(project_id=project.id)
    product = state.projects.project_product(project_id=project.id)
    plan_stale = stale_reasons(record=record, project=project, assets=assets,
                               product=product.turntable_key if product else None) if record else []
    return [export_public(e, stale=export_stale(export=e, record=record, project=project, assets=assets,
                                                plan_stale=plan_stale)) for e in exports]


def _file_name(title: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", title).strip(" .") or "momentloop"
    return f"{stem[:80]}.mp4"


@router.head("/exports/{export_id}/video", include_in_schema=False)
@router.get("/exports/{export_id}/video", response_class=Response,
            responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "The requested byte range."}})
def export_video(request: Request, export: UserExport, user: CurrentUser, state: Stores,
                 download: Annotated[bool, Query(description="Ask the browser to save it.")] = False) -> Response:
    """The MP4; `Range` requests are answered 206 (seeking in the player). `?download=1` names the file
    after the project and asks the browser to save it. Served from the artifact store, folder or S3."""
    name = None
    if download:
        name = _file_name(state.projects.get_project(user_id=user.id, project_id=export.project_id).name)
    return stored_file(request=request, store=state.artifacts, key=export.video_key, media_type="video/mp4",
                       download_name=name, missing="the video file is gone from the store",
                       hint="render the project again")


@router.head("/exports/{export_id}/poster", include_in_schema=False)
@router.get("/exports/{export_id}/poster", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
def export_poster(request: Request, export: UserExport, state: Stores) -> Response:
    if export.poster_key is None:
        raise http_error(404, "this video has no poster")
    return stored_file(request=request, store=state.artifacts, key=export.poster_key, media_type="image/jpeg",
                       missing="this video has no poster")

"""Finished videos: the list, the MP4 (with HTTP Range) and its poster."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api.deps import CurrentUser, Stores, UserExport, UserProject
from api.errors import error_responses, http_error
from api.schemas import ExportPublic
from api.views import export_public

router = APIRouter(tags=["exports"], responses=error_responses(401, 404, 422))


@router.get("/projects/{project_id}/exports")
def list_exports(project: UserProject, state: Stores) -> list[ExportPublic]:
    """The project's videos, newest first."""
    return [export_public(e) for e in state.projects.list_exports(project_id=project.id)]


def _file_name(title: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", title).strip(" .") or "momentloop"
    return f"{stem[:80]}.mp4"


@router.get("/exports/{export_id}/video", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "The requested byte range."}})
def export_video(export: UserExport, user: CurrentUser, state: Stores,
                 download: Annotated[bool, Query(description="Ask the browser to save it.")] = False) -> FileResponse:
    """The MP4; `Range` requests are answered 206 (seeking in the player). `?download=1` names the file
    after the project and asks the browser to save it."""
    path = state.artifacts.path(export.video_key)
    if not path.is_file():
        raise http_error(404, "the video file is gone from the store", hint="render the project again")
    if download:
        project = state.projects.get_project(user_id=user.id, project_id=export.project_id)
        return FileResponse(path, media_type="video/mp4", filename=_file_name(project.name),
                            content_disposition_type="attachment")
    return FileResponse(path, media_type="video/mp4")


@router.get("/exports/{export_id}/poster", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}}}})
def export_poster(export: UserExport, state: Stores) -> FileResponse:
    if export.poster_key is None or not state.artifacts.path(export.poster_key).is_file():
        raise http_error(404, "this video has no poster")
    return FileResponse(state.artifacts.path(export.poster_key), media_type="image/jpeg")

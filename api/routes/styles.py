"""Looks: the list, and a user's photo in a look (one, or several side by side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.deps import CurrentUser, Stores, UserAsset
from api.errors import error_responses, http_error
from api.files import stored_file
from api.media import PREVIEW_SIDE
from api.schemas import LookPublic, PreviewPublic, look_names
from shared.errors import MomentLoopError
from shared.models.render import StyleRequest

router = APIRouter(tags=["looks"], responses=error_responses(401, 422))



@router.get("/styles")
def list_styles(user: CurrentUser) -> list[LookPublic]:
    from functions.style import list_looks

    return [LookPublic(name=look.name, description=look.description) for look in list_looks()]


@router.head("/assets/{asset_id}/styles/{look}", include_in_schema=False)
@router.get("/assets/{asset_id}/styles/{look}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, **error_responses(404, 422)})
def styled_preview(request: Request, asset: UserAsset, state: Stores,
                   look: Annotated[str, PathParam(max_length=40)]) -> Response:
    """The photo in `look`, long side 512, as a JPEG (made once, then served from the store)."""
    if look not in look_names():
        raise http_error(404, f"no such look: {look!r}", hint=f"choose from: {', '.join(look_names())}")
    if asset.preview_key is None:
        raise http_error(404, "a song cannot be shown in a look")
    from functions.style import run_style

    try:
        styled = run_style(request=StyleRequest(image_key=asset.preview_key, look=look,
                                                provider=state.settings.style_provider, max_side=PREVIEW_SIDE),
                           store=state.artifacts)
    except MomentLoopError as exc:
        raise http_error(422, f"the {look} preview could not be made: {exc}", hint=exc.hint or None) from None
    return stored_file(request=request, store=state.artifacts, key=styled.image_key, media_type="image/jpeg",
                       headers={"Cache-Control": "private, max-age=86400"},
                       missing=f"the {look} preview is gone from the store")


@router.get("/assets/{asset_id}/previews", responses=error_responses(404, 422))
def compare_looks(asset: UserAsset,
                  looks: Annotated[str | None, Query(max_length=400, description="Comma-separated; all if absent.")]
                  = None) -> list[PreviewPublic]:
    """Where to get the photo in each of `looks`, to show them side by side."""
    if asset.preview_key is None:
        raise http_error(404, "a song cannot be shown in a look")
    names = [n.strip() for n in looks.split(",") if n.strip()] if looks else list(look_names())
    unknown = [n for n in names if n not in look_names()]
    if unknown:
        raise http_error(422, f"no such look: {', '.join(repr(n) for n in unknown)}",
                         hint=f"choose from: {', '.join(look_names())}")
    return [PreviewPublic(look=n, url=f"/api/assets/{asset.id}/styles/{n}") for n in dict.fromkeys(names)]

"""Product turntables (issue 6): a 360° turn of a product made from the project's photos around it, the
WebM (with alpha) and its poster, and which one the project's video shows as its product shot."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import CurrentUser, Id, Limits, Stores, UserProject
from api.errors import error_responses, http_error
from api.files import stored_file
from api.product_job import ProductJobParams
from api.schemas import JobPublic, ProductCapabilities, ProductCreate, ProductPublic, ProductUse
from api.views import job_public, product_public
from shared.models.media import PhotoSource
from shared.models.product import ProductRequest
from shared.projects import ProductRecord

router = APIRouter(tags=["products"], responses=error_responses(401, 404, 422))

MIN_PHOTOS = 8
"""The fewest photos around a product the web app makes a turntable from. COLMAP places even 4 of the fox
capture's photos, but the turn is drawn from the points they share, and those grow with the photos: 171
points from 4, 442 from 6, 841 from 8, 1593 from 12 (its first 25 frames, 480 px). Under 8 the product
is a sparse cloud, not a product. (The API itself takes 3, for scripts that know their capture.)"""
GOOD_PHOTOS = 20
"""What the page asks a person to take: a full walk around the product, each photo overlapping the last."""


@functools.cache
def _gpu_here() -> bool:
    """The product stage's own choice for `auto` on this machine (nerfstudio and a CUDA device), asked once:
    it imports torch where there is one, and a machine does not grow a GPU while it serves."""
    from functions.product.render import choose_renderer

    probe = ProductRequest(photos=[PhotoSource(key="capabilities", name="capabilities.jpg", index=0)])
    return choose_renderer(request=probe) == "nerf"


def user_product(product_id: Id, user: CurrentUser, state: Stores) -> ProductRecord:
    return state.projects.get_product(user_id=user.id, product_id=product_id)


UserProduct = Annotated[ProductRecord, Depends(user_product)]


def _public(state: Stores, product: ProductRecord) -> ProductPublic:
    used = state.projects.project_product(project_id=product.project_id)
    return product_public(product, in_use=used is not None and used.id == product.id)


@router.post("/projects/{project_id}/product", status_code=202, responses=error_responses(409, 429))
def make_product(body: ProductCreate, project: UserProject, state: Stores, limits: Limits) -> JobPublic:
    """Start a `product` job: the chosen photos (the project's captures, `?role=capture` uploads, or its
    ordinary photos) → camera poses → a 360° turntable with a transparent
    background (the CPU preview where no GPU trains it). Follow it on `/api/jobs/{id}/events`. With
    `use` (the default) the project's video shows it as its product shot once it is made."""
    if len(set(body.asset_ids)) != len(body.asset_ids):
        raise http_error(422, "asset_ids: each photo once")
    # The capture's photos are what a turntable is made from; the video's own photos stay allowed (a
    # project's few shots of a product, picked before captures had a place of their own).
    pool = [*state.projects.list_assets(project_id=project.id, role="capture"),
            *state.projects.list_assets(project_id=project.id)]
    photos = {a.id: a for a in pool if a.kind == "photo"}
    missing = [i for i in body.asset_ids if i not in photos]
    if missing:
        raise http_error(404, f"no such photo in this project: {missing[0]}")
    chosen = [photos[i] for i in body.asset_ids]
    request = ProductRequest(
        photos=[PhotoSource(key=a.key, name=a.name, index=n) for n, a in enumerate(chosen)],
        frames=body.frames, fps=body.fps, width=body.size, height=body.size,
        renderer="preview" if body.preview else "auto",
    )
    params = ProductJobParams(project_id=project.id, user_id=project.user_id, asset_ids=body.asset_ids,
                              request=request, use=body.use)
    limits.take(user_id=project.user_id, action="product")
    job = state.jobs.create_job(kind="product", params=params.model_dump(mode="json"))
    link = state.projects.link_job(job_id=job.id, project_id=project.id, kind="product")
    state.runner.submit(job.id)
    return job_public(link=link, job=job)


@router.get("/projects/{project_id}/products")
def list_products(project: UserProject, state: Stores) -> list[ProductPublic]:
    """The project's turntables, newest first."""
    used = state.projects.project_product(project_id=project.id)
    return [product_public(p, in_use=used is not None and used.id == p.id)
            for p in state.projects.list_products(project_id=project.id)]


@router.get("/projects/{project_id}/product")
def get_project_product(project: UserProject, state: Stores) -> ProductPublic:
    """The turntable the project's video shows; 404 when it shows none."""
    product = state.projects.project_product(project_id=project.id)
    if product is None:
        raise http_error(404, "this project's video shows no product", hint="make a product turntable first")
    return product_public(product, in_use=True)


@router.put("/projects/{project_id}/product")
def use_product(body: ProductUse, project: UserProject, state: Stores) -> ProductPublic:
    """Show one of the project's turntables in its video. The storyboard is kept, out of date (`stale`
    says the product shot changed) until the next one plans the product shot in."""
    current = state.projects.project_product(project_id=project.id)
    state.projects.use_product(project_id=project.id, product_id=body.product_id)
    if current is None or current.id != body.product_id:
        state.projects.touch_project(project_id=project.id)
    product = state.projects.project_product(project_id=project.id)
    assert product is not None
    return product_public(product, in_use=True)


@router.delete("/projects/{project_id}/product", status_code=204)
def stop_using_product(project: UserProject, state: Stores) -> Response:
    """The video shows no product any more (the turntable itself is kept, and can be used again). The
    storyboard is kept, out of date, like after a change of photos."""
    if state.projects.project_product(project_id=project.id) is not None:
        state.projects.use_product(project_id=project.id, product_id=None)
        state.projects.touch_project(project_id=project.id)
    return Response(status_code=204)


@router.get("/products/capabilities")
def product_capabilities(user: CurrentUser, state: Stores) -> ProductCapabilities:
    """What a turntable made here can be: trained on a GPU (nerfstudio on this machine, or the deployed
    Modal app's GPU functions when MOMENTLOOP_EXECUTOR=modal) or the CPU preview; and how many photos
    around the product the app asks for."""
    gpu = state.settings.executor == "modal" or _gpu_here()
    return ProductCapabilities(gpu=gpu, renderer="nerf" if gpu else "preview", min_photos=MIN_PHOTOS,
                               good_photos=GOOD_PHOTOS, max_photos=state.settings.max_captures)


@router.get("/products/{product_id}")
def get_product(product: UserProduct, state: Stores) -> ProductPublic:
    return _public(state, product)


@router.head("/products/{product_id}/video", include_in_schema=False)
@router.get("/products/{product_id}/video", response_class=Response,
            responses={200: {"content": {"video/webm": {}}}, 206: {"description": "The requested byte range."}})
def product_video(request: Request, product: UserProduct, state: Stores, download: bool = False) -> Response:
    """The turntable: VP9 WebM with alpha, one full turn; `Range` answered 206. `?download=1` saves it."""
    return stored_file(request=request, store=state.artifacts, key=product.turntable_key, media_type="video/webm",
                       download_name=f"product-{product.id[:8]}.webm" if download else None,
                       missing="the turntable is gone from the store", hint="make the product turntable again")


@router.head("/products/{product_id}/poster", include_in_schema=False)
@router.get("/products/{product_id}/poster", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def product_poster(request: Request, product: UserProduct, state: Stores) -> Response:
    """The first frame, an RGBA PNG."""
    return stored_file(request=request, store=state.artifacts, key=product.poster_key, media_type="image/png",
                       missing="the turntable's poster is gone from the store")

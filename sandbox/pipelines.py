"""Deal pipelines: `GET /crm/v3/pipelines/{objectType}` and `.../{pipelineId}` (read-only).

Shapes from HubSpot's Pipelines v3 OpenAPI spec (HubSpot-public-api-spec-collection,
`CRM/Pipelines` v3): the list answers `CollectionResponsePipelineNoPaging` (`{"results":
[Pipeline]}`, every pipeline in one answer, no paging); a `Pipeline` has `id`, `label`,
`displayOrder`, `stages`, `createdAt`, `updatedAt`, `archived`; a `PipelineStage` has the same
plus `metadata`, a map of **string** values: for deals `probability` ("0.0".."1.0") and
`isClosed` ("true"/"false"). The spec: "The default pipelines will have createdAt = 0". The
sandbox has deal pipelines only (`sandbox.schema.DEAL_PIPELINES`); other object types are
refused (strict), an unknown pipeline id is 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sandbox.schema import DEAL_PIPELINES, PipelineDef, resolve_type
from sandbox.tables import iso
from sandbox.web import Sandbox, bad_request, not_found

EPOCH = iso(0)


def pipeline_routes(api: FastAPI, sb: Sandbox) -> None:
    @api.get("/crm/v3/pipelines/{object_type}")
    async def get_all(object_type: str) -> JSONResponse:
        _deals_only(object_type)
        return JSONResponse({"results": [_pipeline(p, n) for n, p in enumerate(DEAL_PIPELINES)]})

    @api.get("/crm/v3/pipelines/{object_type}/{pipeline_id}")
    async def get_one(object_type: str, pipeline_id: str) -> JSONResponse:
        _deals_only(object_type)
        for order, pipeline in enumerate(DEAL_PIPELINES):
            if pipeline.id == pipeline_id:
                return JSONResponse(_pipeline(pipeline, order))
        raise not_found(f"Unable to find pipeline {pipeline_id} for object type {object_type}")


def _deals_only(object_type: str) -> None:
    if resolve_type(object_type) != "deals":
        raise bad_request(f"The sandbox has pipelines for deals only, not {object_type!r}")


def _pipeline(pipeline: PipelineDef, order: int) -> dict[str, Any]:
    stages = [
        {
            "id": stage.id,
            "label": stage.label,
            "displayOrder": n,
            "metadata": {
                "isClosed": "true" if stage.closed else "false",
                "probability": stage.probability,
            },
            "createdAt": EPOCH,
            "updatedAt": EPOCH,
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }
        for n, stage in enumerate(pipeline.stages)
    ]
    return {
        "id": pipeline.id,
        "label": pipeline.label,
        "displayOrder": order,
        "stages": stages,
        "createdAt": EPOCH,
        "updatedAt": EPOCH,
        "archived": False,
    }

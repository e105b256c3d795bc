"""Files to attach (contract §3 F1): multipart upload and download."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from fruxon_playground.sandbox.problems import Problem
from fruxon_playground.sandbox.routers import tenant_router
from fruxon_playground.sandbox.state import now_ms, sandbox_of

router = tenant_router()


@router.post("/storage")
async def upload(request: Request, tenant: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    form = await request.form()
    upload_file = form.get("file")
    if upload_file is None or isinstance(upload_file, str):
        raise Problem(400, "Send the file as multipart form data in a part named 'file'.", errors={"file": ["required"]})
    data = await upload_file.read()
    if len(data) > sandbox.config.max_upload_bytes:
        raise Problem(400, f"The file is larger than {sandbox.config.max_upload_bytes} bytes.", errors={"file": ["too large"]})
    content_type = upload_file.content_type or "application/octet-stream"
    file_type = file_type_of(content_type)
    file_id = "f_" + uuid.uuid4().hex[:16]
    name = upload_file.filename or file_id
    sandbox.store.save_file(tenant, file_id, name, content_type, file_type, data, now_ms())
    return {"fileId": file_id, "fileType": file_type, "contentType": content_type,
            "promptLink": f"<{file_type}:{file_id}/>", "displayName": name}


@router.get("/storage/{file_id}")
async def download(request: Request, tenant: str, file_id: str) -> Response:
    stored = sandbox_of(request).store.get_file(tenant, file_id)
    if stored is None:
        raise Problem(404, f"File {file_id!r} was not found.")
    return Response(bytes(stored["data"]), media_type=stored["content_type"])


def file_type_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if content_type.startswith(("text/", "application/pdf", "application/msword", "application/vnd.openxmlformats")):
        return "document"
    return "file"

"""Attachments: pick files, check their size before anything is sent, upload, list, remove."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from components.safe import md
from fruxon_playground.api import FruxonError
from fruxon_playground.settings import PlaygroundSettings


@dataclass(frozen=True)
class UploadedAttachment:
    name: str
    content_type: str
    size: int
    file_link: dict[str, Any]  # the FileLink the storage endpoint returned, sent as-is in `attachments`
    server: str  # base URL + tenant it was uploaded to; a link is useless on another server


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def attachments_editor(state_key: str, conn) -> list[UploadedAttachment]:
    """Draws the uploader and the list; returns the attachments to send with the next run."""
    attachments: list[UploadedAttachment] = st.session_state[state_key]
    client_factory = conn.client
    server = f"{conn.settings.base_url}|{conn.settings.tenant}"
    # One limit, stated once: the drop zone shows and enforces the widget's `max_upload_size`, and
    # Streamlit's upload endpoint refuses anything above `server.maxUploadSize` whatever the widget says.
    limit_mb = PlaygroundSettings.from_environment().upload_limit_mb(st.get_option("server.maxUploadSize"))
    limit = limit_mb * 1024 * 1024  # the drop zone counts a megabyte as 1024 × 1024 bytes too
    uploader_key = f"{state_key}.uploader"
    generation_key = f"{state_key}.generation"
    st.session_state.setdefault(generation_key, 0)
    picked = st.file_uploader(
        f"Attachments (up to {limit_mb} MB each)",
        accept_multiple_files=True,
        max_upload_size=limit_mb,
        key=f"{uploader_key}.{st.session_state[generation_key]}",
    )
    if picked:
        too_big = [f for f in picked if f.size > limit]
        for f in too_big:
            st.error(f"“{md(f.name)}” is {human_size(f.size)}; the limit is {limit_mb} MB. It was not uploaded.")
        to_upload = [f for f in picked if f.size <= limit]
        if to_upload:
            try:
                with client_factory() as client:
                    for f in to_upload:
                        link = client.upload_file(f.name, f.getvalue(), f.type or "application/octet-stream")
                        attachments.append(
                            UploadedAttachment(
                                name=f.name,
                                content_type=f.type or "application/octet-stream",
                                size=f.size,
                                file_link=link.model_dump(by_alias=True, exclude_none=True),
                                server=server,
                            )
                        )
            except FruxonError as exc:
                st.error(f"Upload failed: {md(exc)}")
        # A fresh uploader: the files now live in the list below, not in the widget.
        st.session_state[generation_key] += 1
        if not too_big:
            st.rerun()
    stale = [a for a in attachments if a.server != server]
    if stale:
        st.warning(f"{len(stale)} attachment(s) were uploaded to another server and will not be sent.")
    for index, item in enumerate(attachments):
        name_col, meta_col, remove_col = st.columns([5, 4, 1], vertical_alignment="center")
        name_col.text(item.name)
        meta_col.caption(md(f"{item.content_type} · {human_size(item.size)} · {item.file_link.get('fileId', '')}"))
        if remove_col.button("✕", key=f"{state_key}.remove.{index}.{item.file_link.get('fileId')}", help="Remove"):
            attachments.pop(index)
            st.rerun()
    return [a for a in attachments if a.server == server]


"""Parameter inputs built from an agent's parameter schema, with a raw-JSON view kept in sync.

The canonical values live in one session key (a dict). The form widgets and the JSON editor are
two views of it; switching views copies the values over in an `on_change` callback, which runs
before the script, so widget state can be set without Streamlit's "value set twice" warnings.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from components.safe import md
from fruxon_playground.api.models import ParameterMetadata
from fruxon_playground.contract import normalize_enum as _norm

_JSON_TYPES = {"JSON", "DICTIONARY"}


def _type_of(meta: ParameterMetadata) -> str:
    return _norm(meta.type or meta.type_name or "STRING")


def default_values(metadata: list[ParameterMetadata]) -> dict[str, Any]:
    """Initial values: each parameter's default, typed; required ones without a default are left empty."""
    values: dict[str, Any] = {}
    for meta in metadata:
        if meta.default_value is None:
            continue
        values[meta.name] = coerce_default(meta, meta.default_value)
    return values


def coerce_default(meta: ParameterMetadata, raw: Any) -> Any:
    kind = _type_of(meta)
    try:
        if kind == "INTEGER":
            return int(raw)
        if kind == "FLOAT":
            return float(raw)
        if kind == "BOOLEAN":
            return str(raw).strip().lower() in {"true", "1", "yes"}
        if kind in {"JSON", "DICTIONARY", "STRINGARRAY"} and isinstance(raw, str):
            return json.loads(raw)
    except (TypeError, ValueError):
        return raw
    return raw


class ParameterForm:
    """One parameter form bound to session keys under `prefix`."""

    def __init__(self, prefix: str, metadata: list[ParameterMetadata]) -> None:
        self.prefix = prefix
        self.metadata = metadata
        self.values_key = f"{prefix}.values"
        self.json_key = f"{prefix}.json_text"
        self.mode_key = f"{prefix}.as_json"
        self.schema_key = f"{prefix}.schema"
        schema_id = json.dumps([m.model_dump(by_alias=True, exclude_none=True) for m in metadata], sort_keys=True)
        if st.session_state.get(self.schema_key) != schema_id:
            # A different agent (or revision): start from its defaults, keep values of same-named params.
            previous = st.session_state.get(self.values_key) or {}
            names = {m.name for m in metadata}
            values = default_values(metadata)
            values.update({k: v for k, v in previous.items() if k in names})
            st.session_state[self.values_key] = values
            st.session_state[self.schema_key] = schema_id
            for meta in metadata:
                st.session_state.pop(self._widget_key(meta), None)
        st.session_state.setdefault(self.values_key, {})
        st.session_state.setdefault(self.mode_key, not metadata)

    # -- values -------------------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        return dict(st.session_state[self.values_key])

    def _widget_key(self, meta: ParameterMetadata) -> str:
        return f"{self.prefix}.field.{meta.name}"

    # -- view switching -----------------------------------------------------------------------
    def _on_mode_change(self) -> None:
        if st.session_state[self.mode_key]:  # form → JSON
            st.session_state[self.json_key] = json.dumps(self.values, indent=2, ensure_ascii=False)
        else:  # JSON → form: only when the JSON is valid, else stay in JSON mode with the error
            parsed = self._parse_json()
            if isinstance(parsed, dict):
                st.session_state[self.values_key] = parsed
                for meta in self.metadata:
                    st.session_state.pop(self._widget_key(meta), None)
            else:
                st.session_state[self.mode_key] = True

    def _parse_json(self) -> dict[str, Any] | str:
        text = st.session_state.get(self.json_key) or "{}"
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            return f"Parameters are not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        if not isinstance(parsed, dict):
            return 'Parameters must be a JSON object, e.g. {"question": "…"}.'
        return parsed

    # -- drawing ------------------------------------------------------------------------------
    def draw(self, field_errors: dict[str, list[str]] | None = None) -> str | None:
        """Draws the inputs; returns a message when the JSON view holds something unusable."""
        field_errors = field_errors or {}
        st.toggle("Edit as JSON", key=self.mode_key, on_change=self._on_mode_change, disabled=not self.metadata)
        if st.session_state[self.mode_key]:
            st.session_state.setdefault(self.json_key, json.dumps(self.values, indent=2, ensure_ascii=False))
            st.text_area("Parameters (JSON object)", key=self.json_key, height=180)
            parsed = self._parse_json()
            if isinstance(parsed, str):
                st.error(parsed)
                return parsed
            st.session_state[self.values_key] = parsed
            for name, messages in field_errors.items():
                st.error(f"{md(name, limit=80)}: " + "; ".join(md(m) for m in messages))
            return None
        values = self.values
        for meta in self.metadata:
            values[meta.name] = self._draw_field(meta, values.get(meta.name))
            for message in field_errors.get(meta.name, []):
                st.error(md(message))
        st.session_state[self.values_key] = {k: v for k, v in values.items() if v is not None and v != ""}
        return None

    def _draw_field(self, meta: ParameterMetadata, current: Any) -> Any:
        key = self._widget_key(meta)
        label = md(meta.display_name or meta.name, limit=200) + (" *" if meta.required else "")
        help_text = md(meta.description) if meta.description else None
        kind = _type_of(meta)
        if key not in st.session_state and current is not None:
            st.session_state[key] = self._widget_value(kind, current, meta)
        if kind == "OPTION" and meta.options:
            choices = [""] + [str(o.value) for o in meta.options]
            labels = {str(o.value): (o.label or str(o.value)) for o in meta.options}
            st.session_state.setdefault(key, "")
            choice = st.selectbox(label, choices, key=key, help=help_text, format_func=lambda v: labels.get(v, "—"))
            return choice or None
        if kind == "BOOLEAN":
            return st.checkbox(label, key=key, help=help_text)
        if kind in {"INTEGER", "FLOAT"}:
            text = st.text_input(label, key=key, help=help_text, placeholder=_range_hint(meta, kind))
            return _parse_number(text, kind)
        if kind in _JSON_TYPES or kind == "STRINGARRAY":
            text = st.text_area(label, key=key, help=help_text, height=90,
                                placeholder='["a", "b"]' if kind == "STRINGARRAY" else '{"key": "value"}')
            if not text.strip():
                return None
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return text  # the validator reports it next to the field
        return st.text_area(label, key=key, help=help_text, height=68) or None

    @staticmethod
    def _widget_value(kind: str, value: Any, meta: ParameterMetadata) -> Any:
        if kind == "BOOLEAN":
            return bool(value)
        if kind in _JSON_TYPES or kind == "STRINGARRAY":
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return "" if value is None else str(value)


def _range_hint(meta: ParameterMetadata, kind: str) -> str:
    bounds = meta.integer_range if kind == "INTEGER" else meta.float_range
    if bounds and (bounds.min is not None or bounds.max is not None):
        return f"{bounds.min if bounds.min is not None else '…'} – {bounds.max if bounds.max is not None else '…'}"
    return "a whole number" if kind == "INTEGER" else "a number"


def _parse_number(text: str, kind: str) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text) if kind == "INTEGER" else float(text)
    except ValueError:
        return text  # kept as typed; validation says what is wrong with it


def set_form_values(prefix: str, values: dict[str, Any]) -> None:
    """Replace a form's values from outside (pasted curl, re-run); call from a callback or before drawing."""
    st.session_state[f"{prefix}.values"] = dict(values)
    st.session_state[f"{prefix}.json_text"] = json.dumps(values, indent=2, ensure_ascii=False)
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{prefix}.field.")]:
        del st.session_state[key]

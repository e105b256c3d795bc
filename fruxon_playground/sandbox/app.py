"""The sandbox's FastAPI app: a local server that follows the Fruxon API contract (§10).

Runs are planned by the pure engine (engine.py), played out in time by playback.py and stored by
lifecycle.py; each area of the contract is one router. Request headers and keys are never logged.
"""

from __future__ import annotations

from fastapi import FastAPI

from fruxon_playground.sandbox import catalog
from fruxon_playground.sandbox.config import SandboxConfig
from fruxon_playground.sandbox.problems import install_handlers
from fruxon_playground.sandbox.routers import (
    agents,
    analytics,
    approvals,
    drafts,
    records,
    runs,
    storage,
    workspace,
)
from fruxon_playground.sandbox.seed import seed_history
from fruxon_playground.sandbox.state import DAY_MS, Sandbox, now_ms
from fruxon_playground.sandbox.store import Store


def create_app(config: SandboxConfig) -> FastAPI:
    app = FastAPI(title="Fruxon sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    store = Store(config.db_path)
    started = now_ms()
    for env in catalog.DEMO_ENVIRONMENTS:
        store.ensure_environment(config.tenant, env["slug"], env["displayName"], "Curated", started - 40 * DAY_MS)
    if config.seed_history and store.get_meta("seeded") is None:
        seed_history(store, config.tenant, seed=config.seed, now=started)
        store.set_meta("seeded", str(started))
    app.state.sandbox = Sandbox(config, store, catalog.Catalog.load(config.replay_dir), started)
    install_handlers(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Runs before drafts and records: their `{agent}:action` paths must not fall to a GET by id.
    for module in (runs, drafts, records, analytics, approvals, storage, agents, workspace):
        app.include_router(module.router)
    return app

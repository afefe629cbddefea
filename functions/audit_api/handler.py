"""Audit verification and anchors on demand."""

from functions.audit_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

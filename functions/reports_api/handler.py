"""Compliance reports per month and account (JSON or CSV), and the scheduled sweeps' run records."""

from functions.reports_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

"""The official-account registry: requests, approvals, lifecycle, stewards, disclosures and unofficial pages."""

from functions.accounts_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

"""The official-account registry: requests, approvals, lifecycle, stewards, disclosures and unofficial pages;
the credential vault; offboarding."""

from functions.accounts_api import offboarding_routes, rotation_routes, sweep_routes
from functions.accounts_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
app.include_router(offboarding_routes.router)
app.include_router(rotation_routes.router)
app.include_router(sweep_routes.router)
handler = handlers.http(app)

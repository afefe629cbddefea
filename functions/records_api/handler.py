"""Records management: the retention schedule, items' retention, legal holds, disposition, public-records
requests, search and export packages."""

from functions.records_api import export_routes, request_routes
from functions.records_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
app.include_router(request_routes.router)
app.include_router(export_routes.router)
handler = handlers.http(app)

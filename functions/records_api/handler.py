"""Records management: the retention schedule, items' retention, legal holds and disposition."""

from functions.records_api import request_routes
from functions.records_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
app.include_router(request_routes.router)
handler = handlers.http(app)

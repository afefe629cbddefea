"""GET /health: answers without touching any resource."""

from functions.health.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

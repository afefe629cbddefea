"""GET /openapi.json and GET /me."""

from functions.docs.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

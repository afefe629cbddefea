"""The moderation queue, decisions, the removals report and the published rule set."""

from functions.moderation_api.routes import router
from shared import api, handlers

app = api.resolver()
app.include_router(router)
handler = handlers.http(app)

"""GET|POST /webhooks/meta, /webhooks/x, /webhooks/youtube."""

from functions.webhooks.receiver import receive
from shared import handlers

handler = handlers.raw_http(receive)

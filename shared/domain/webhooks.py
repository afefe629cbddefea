"""Platform webhook protocols: signatures, handshakes and a first look at a delivery's shape. Pure logic.

Every signature is computed over the raw request bytes exactly as they arrived (Meta signs its escaped-unicode
bytes; re-serializing parsed JSON would not verify) and compared in constant time.

- Meta (Facebook Pages, Instagram): ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>``;
  ``GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`` → ``C`` as plain text when T matches.
- X Account Activity: ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, body)>``;
  ``GET ?crc_token=T`` → ``{"response_token": "sha256=<base64 HMAC-SHA256(consumer secret, T)>"}``.
- WebSub (YouTube): ``X-Hub-Signature: <alg>=<hex HMAC(hub.secret, body)>`` with alg sha1 (what the YouTube hub
  sends) or sha256/sha384/sha512 (the W3C recommendation allows them); verification of intent echoes
  ``hub.challenge`` for a YouTube channel feed topic.

This module is on the receiver's cold-start path: standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree import ElementTree

Platform = Literal["meta", "x", "youtube"]
PLATFORMS: tuple[Platform, ...] = ("meta", "x", "youtube")

SIGNATURE_HEADERS: dict[Platform, str] = {
    "meta": "x-hub-signature-256",
    "x": "x-twitter-webhooks-signature",
    "youtube": "x-hub-signature",
}
WEBSUB_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
ATOM = "{http://www.w3.org/2005/Atom}"
YOUTUBE_TOPIC = re.compile(
    r"^https://www\.youtube\.com/xml/feeds/videos\.xml\?channel_id=[A-Za-z0-9_-]{10,64}$"
)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# A verification secret shorter than this is not a real one (Meta's app secrets are 32 characters, X's consumer
# secrets 50, the secrets the stack generates 48): the webhook is treated as not configured.
MIN_SECRET_LENGTH = 16
# What an X CRC token may be: a short opaque string (X sends base64-like random tokens). Nothing matching this is
# a JSON object, so the CRC answer can never serve as the signature of a delivery.
CRC_TOKEN_MAX = 128
CRC_TOKEN = re.compile(rf"[A-Za-z0-9+/=_.\-]{{1,{CRC_TOKEN_MAX}}}")


# The query parameters each platform's handshake must carry (also what the API document lists).
HANDSHAKE_QUERY: dict[Platform, tuple[str, ...]] = {
    "meta": ("hub.mode", "hub.verify_token", "hub.challenge"),
    "x": ("crc_token",),
    "youtube": ("hub.mode", "hub.topic", "hub.challenge"),
}
DELIVERY_TYPES: dict[Platform, str] = {
    "meta": "application/json",
    "x": "application/json",
    "youtube": "application/atom+xml",
}


@dataclass(frozen=True)
class Reply:
    """What the receiver answers; ``body`` is sent as is (text/plain) or as JSON."""

    status: int
    body: str | dict[str, Any]

    @property
    def content_type(self) -> str:
        return "text/plain" if isinstance(self.body, str) else "application/json"


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A request header, whatever its case (API Gateway keeps the case the client sent)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _hex_hmac(secret: str, body: bytes, digest: Any = hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def _b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def expected_signature(platform: Platform, secret: str, body: bytes, algorithm: str = "sha1") -> str:
    """The header value the platform would send for ``body`` (also how a developer signs a test delivery)."""
    if platform == "meta":
        return "sha256=" + _hex_hmac(secret, body)
    if platform == "x":
        return "sha256=" + _b64_hmac(secret, body)
    return f"{algorithm}=" + _hex_hmac(secret, body, WEBSUB_ALGORITHMS[algorithm])


def signature_matches(platform: Platform, secret: str, body: bytes, provided: str | None) -> bool:
    """Whether ``provided`` is the right signature of ``body``, compared in constant time."""
    if not provided or not secret:
        return False
    provided = provided.strip()
    if platform == "youtube":
        algorithm, _, _ = provided.partition("=")
        if algorithm.lower() not in WEBSUB_ALGORITHMS:
            return False
        expected = expected_signature(platform, secret, body, algorithm.lower())
        return hmac.compare_digest(expected.encode(), provided.lower().encode())
    expected = expected_signature(platform, secret, body)
    if platform == "meta":
        provided = provided.lower()
    return hmac.compare_digest(expected.encode(), provided.encode())


# --------------------------------------------------------------------------------------------- handshakes
def missing_query(platform: Platform, query: Mapping[str, str]) -> Reply | None:
    """A 400 naming the handshake parameters that are absent, or None."""
    missing = [name for name in HANDSHAKE_QUERY[platform] if not query.get(name)]
    if not missing:
        return None
    return Reply(400, {"message": f"the handshake needs the query parameters: {', '.join(missing)}"})


def meta_handshake(query: Mapping[str, str], verify_token: str) -> Reply:
    if refused := missing_query("meta", query):
        return refused
    mode, token, challenge = query["hub.mode"], query["hub.verify_token"], query["hub.challenge"]
    if mode != "subscribe":
        return Reply(400, {"message": f"hub.mode must be subscribe, not {mode!r}"})
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return Reply(403, {"message": "hub.verify_token does not match"})
    return Reply(200, challenge)


def x_crc(query: Mapping[str, str], consumer_secret: str) -> Reply:
    """X's challenge-response check, answered only for a token that can never be a delivery.

    The answer is the same HMAC as a delivery's signature, so answering any string would sign any body on
    request. X's tokens are short opaque strings: a token that is not (:data:`CRC_TOKEN`) is refused, and
    since every accepted token lacks JSON's ``{``, no answer verifies as the signature of a delivery.
    """
    if refused := missing_query("x", query):
        return refused
    token = query["crc_token"]
    if not CRC_TOKEN.fullmatch(token):
        return Reply(
            400,
            {"message": f"crc_token must be 1 to {CRC_TOKEN_MAX} letters, digits or + / = _ . - characters"},
        )
    return Reply(200, {"response_token": "sha256=" + _b64_hmac(consumer_secret, token.encode())})


def websub_verification(query: Mapping[str, str]) -> Reply:
    if query.get("hub.mode") == "denied":
        return Reply(200, {"message": "subscription denial noted"})
    if refused := missing_query("youtube", query):
        return refused
    mode, topic, challenge = query["hub.mode"], query["hub.topic"], query["hub.challenge"]
    if mode not in ("subscribe", "unsubscribe"):
        return Reply(400, {"message": f"hub.mode must be subscribe or unsubscribe, not {mode!r}"})
    if not YOUTUBE_TOPIC.match(topic):
        return Reply(404, {"message": "hub.topic is not a YouTube channel feed this endpoint subscribes to"})
    return Reply(200, challenge)


# --------------------------------------------------------------------------------------------- shape
def shape_problem(platform: Platform, body: bytes) -> str | None:
    """Why a signed delivery cannot be a delivery of this platform, or None if its shape is right.

    Only the envelope is checked here; the processor's adapters read the events inside, and skip (and count)
    kinds they do not handle rather than refuse them.
    """
    if platform == "youtube":
        return _atom_problem(body)
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    except RecursionError:
        return "the body is not JSON (nested too deeply)"
    except ValueError as exc:
        return f"the body is not JSON ({exc.__class__.__name__}: {exc})"
    if platform == "meta":
        return _meta_problem(document)
    if not isinstance(document, dict):
        return "the body must be a JSON object"
    if not isinstance(document.get("for_user_id"), str):
        return "an X delivery needs a 'for_user_id' string"
    return None


def _meta_problem(document: Any) -> str | None:
    """A Meta delivery: ``{"object": ..., "entry": [...]}``. Meta's own documentation shows it wrapped in an
    array, and some captures lack ``object`` (the adapters infer it from the change fields), so both pass."""
    envelopes = document if isinstance(document, list) else [document]
    if not envelopes:
        return "a Meta delivery needs at least one envelope"
    for envelope in envelopes:
        if not isinstance(envelope, dict):
            return "a Meta delivery must be a JSON object (or an array of them)"
        if "object" in envelope and not isinstance(envelope["object"], str):
            return "a Meta delivery's 'object' must be a string"
        entries = envelope.get("entry")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return "a Meta delivery needs an 'entry' list of objects"
    return None


def _atom_problem(body: bytes) -> str | None:
    if _DTD.search(body):
        return "XML with a DOCTYPE or ENTITY declaration is refused"
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - declarations refused above, so no entity expansion
    except ElementTree.ParseError as exc:
        return f"the body is not well-formed XML ({exc})"
    if root.tag != f"{ATOM}feed":
        return "a WebSub delivery must be an Atom feed"
    return None

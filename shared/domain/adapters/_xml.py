"""A small XML reader that refuses what makes XML dangerous.

``xml.etree.ElementTree`` expands internal entities and so is open to "billion laughs" entity bombs. WebSub
Atom feeds never need a DOCTYPE, so this reader refuses any DOCTYPE or ENTITY declaration: first by a scan of
the text (defence in depth), then by expat handlers that raise the moment a DOCTYPE or entity declaration
starts, before anything is expanded. External entities and parameter entities are never resolved. The tree is
built with ``TreeBuilder``, so callers use the ordinary ``Element`` API with ``{namespace}local`` tags.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from shared.errors import BadRequest

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class _Refused(Exception):
    pass


def _refuse(*_: Any) -> NoReturn:
    raise _Refused


def _clark(name: str) -> str:
    """expat's "uri local" (namespace_separator " ") as ElementTree's "{uri}local"."""
    uri, sep, local = name.rpartition(" ")
    return f"{{{uri}}}{local}" if sep else name


def parse_xml(raw: bytes, what: str) -> Element:
    if not raw.strip():
        raise BadRequest(f"{what} delivery is empty")
    declared = _ENCODING.match(raw)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise BadRequest(f"{what} delivery must be UTF-8 XML, not {declared.group(1).decode()}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} delivery is not UTF-8 text (byte {exc.start})") from exc
    if _DECLARATION.search(raw):
        raise BadRequest(
            f"{what} delivery has a DOCTYPE or ENTITY declaration; they are refused (entity bombs)"
        )

    builder = TreeBuilder()
    parser = expat.ParserCreate(encoding="utf-8", namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.buffer_text = True

    def start(name: str, attrs: dict[str, str]) -> None:
        builder.start(_clark(name), {_clark(k): v for k, v in attrs.items()})

    def end(name: str) -> None:
        builder.end(_clark(name))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(raw, True)
    except _Refused as exc:
        raise BadRequest(f"{what} delivery has a DOCTYPE or entity declaration; they are refused") from exc
    except expat.ExpatError as exc:
        raise BadRequest(
            f"{what} delivery is not well-formed XML: {expat.ErrorString(exc.code)} "
            f"at line {exc.lineno} column {exc.offset}"
        ) from exc
    except RecursionError as exc:
        raise BadRequest(f"{what} delivery is nested too deeply to read") from exc
    return builder.close()

"""The shared platform fixtures (``../shared/fixtures/webhooks`` beside the repository) and their signatures."""

from __future__ import annotations

from pathlib import Path

WEBHOOKS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "webhooks"


def fixture(name: str) -> bytes:
    return (WEBHOOKS / name).read_bytes()


# The signed vectors of VECTORS.md: (platform, secret, fixture file or literal body, expected header value).
VECTORS: dict[str, tuple[str, str, str | bytes, str]] = {
    "M1": (
        "meta",
        "It's a Secret to Everybody",
        b"Hello, World!",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ),
    "M2": (
        "meta",
        "test-app-secret",
        "fb_feed_comment_add_1.json",
        "sha256=239a264e7734d0cb3a8e36fdc9519d01f96c964c574a0c21468e67f95ac06be2",
    ),
    "M3": (
        "meta",
        "test-app-secret",
        "fb_feed_comment_add_7_thai_utf8.json",
        "sha256=ba8e74c378182fa862a1638a76d464f285bf7ae344b38137a1e88ef65f1af490",
    ),
    "M4": (
        "meta",
        "test-app-secret",
        "fb_feed_comment_add_7_thai_meta_escaped.DERIVED.json",
        "sha256=991b5a0f88bb65daa63fbd6e4b636036b2d47ec17abf74461ebc3f20b0917ced",
    ),
    "X1": ("x", "DDD", "x_tweet_create_events_1.json", "sha256=DmARpz6wdgte6Vj+ePeqC+RHvEDokmwOIIqr4//utkk="),
    "X2": ("x", "DDD", "x_tweet_create_events_2.json", "sha256=U7bglX19JitI2xuvyONAc0d/fowIFEeUzkEgnWdGyUM="),
    "W1": (
        "youtube",
        "test-websub-secret-12345",
        "yt_websub_upload_1.xml",
        "sha1=db3b684484729c06b36e06791d3bb0997a360e6f",
    ),
}


def vector_body(body: str | bytes) -> bytes:
    return body if isinstance(body, bytes) else fixture(body)

"""``python -m infrastructure.local.moto_server``: moto's server with the local runtime's speed-ups
(``infrastructure.local.moto_speedups``); the arguments are moto.server's."""

from __future__ import annotations

from moto import server

from infrastructure.local import moto_speedups

if __name__ == "__main__":
    moto_speedups.apply()
    server.main()

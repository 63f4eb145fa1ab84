"""Locust entry point of the parity load harness: ``locust -f load/locustfile.py --host BASE_URL``.

Everything lives in :mod:`load.users` and :mod:`load.harness`; this file only exposes the user
class and the shape to locust (importing them registers the ``--parity-*`` options).
``parity load`` runs this file in a locust subprocess; plain locust, ``--processes`` and
``--master``/``--worker`` work too.

Must not: hold logic.
"""

from __future__ import annotations

from load.users import ParityShape, ParityUser

__all__ = ["ParityShape", "ParityUser"]

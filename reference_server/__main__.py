"""``python -m reference_server serve|upstream ...``: dispatch to the subcommand's module.

Must not: hold application logic (``cli``, ``upstream/command``).
"""

from __future__ import annotations

import importlib
import sys


def _main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "upstream":
        # The standalone synthetic upstream (reference_server/upstream), built separately.
        try:
            module = importlib.import_module("reference_server.upstream")
        except ModuleNotFoundError as exc:
            if exc.name != "reference_server.upstream":
                raise
            print(
                "python -m reference_server upstream: not available in this build", file=sys.stderr
            )
            return 2
        return int(module.main(argv[1:]))
    from reference_server.cli import main

    return main(argv)


if __name__ == "__main__":
    raise SystemExit(_main())

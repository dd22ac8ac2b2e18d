"""Import first in a service's ``__main__``: keeps development-only packages out of its process.

The development venv holds packages the images do not (rich and its pygments, from jg-devstack;
trio, from selenium), and libraries import them whenever they find them: structlog and httpx
take rich (~4.6 MB resident; tracebacks are then plain, see ``jg_messaging.logs``), httpx's CLI
pygments (~0.5 MB), httpcore trio (~4 MB; the services run on asyncio). A service started from
the development venv (``make run``, the benchmark, the tests' processes) then holds what it
holds in its image. This package imports nothing else, so it runs before any library.
"""

import sys

DEVELOPMENT_ONLY = ("rich", "pygments", "trio")

for _name in DEVELOPMENT_ONLY:
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]  # None: `import` fails

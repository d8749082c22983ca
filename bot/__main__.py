"""``python -m bot``: the command line lives in ``bot.cli``."""

from __future__ import annotations

import sys

from bot.startup import build_content_early, import_telegram_without_tornado

if __name__ == "__main__":
    build_content_early(sys.argv[1:])
    import_telegram_without_tornado()
    # imported after the line above, which must come before anything imports telegram.ext (memory at rest)
    from bot.cli import main

    sys.exit(main())

"""``python -m camwall``."""

import sys

from camwall.cli import main

sys.exit(main())

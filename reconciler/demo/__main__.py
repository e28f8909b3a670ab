from __future__ import annotations

import sys

from reconciler.demo.run import main

sys.exit(main())

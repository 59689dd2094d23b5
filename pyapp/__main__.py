"""`python -m pyapp FILE...`: see pyapp.cli."""

import sys

from pyapp.cli import main

if __name__ == "__main__":
    sys.exit(main())

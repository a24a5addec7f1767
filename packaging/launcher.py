"""Entry script of the frozen app (PyInstaller needs a file; the logic is in __main__)."""

import sys

from faceorganizer.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

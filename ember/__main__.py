"""``python -m ember``: the same command line as the ``ember`` script (see ember.cli)."""
from ember.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m segkit.train``: see :mod:`segkit.train.cli`."""
from segkit.train.cli import main

if __name__ == "__main__":
    main()

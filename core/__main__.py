"""``python -m core …``: the command line (see ``core.cli``)."""

from core.cli import main

if __name__ == "__main__":
    main()

"""The command line (``python -m core``): an entry point like the pages; it calls ``core.services`` only."""

"""The tabs of the Journal Export page (``pages/journal_export.py``): runs with their detail and dialogs, bulk
sending, importing a journal file, and the history with its chart. Each tab is one function the page calls."""

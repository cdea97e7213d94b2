"""Plain helpers of the test suite (fixtures live in the conftest.py files)."""

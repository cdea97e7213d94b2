"""Payroll companies and runs: the store, journal file import, payroll sources, the run data types."""

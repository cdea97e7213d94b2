"""Troubleshooting: the catalogue of known errors, the matcher and the one classifier."""

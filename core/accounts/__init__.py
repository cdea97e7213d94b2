"""Visma accounts: records, the OAuth authorization flow, single-flight token refresh, sessions."""

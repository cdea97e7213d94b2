"""Talking to Visma: the eAccounting API client, its errors and models, the identity server (OAuth), pacing."""

"""Visma accounts: records and their read model (``records``, ``views``), the OAuth authorization flow
(``authorization``, ``oauth_states``, ``company``), token storage and single-flight refresh (``tokens``), disconnecting
and deleting (``revocation``), and a Visma session bound to one account (``sessions``)."""

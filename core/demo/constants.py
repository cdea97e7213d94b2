"""Values of the bundled Visma sandbox that demo mode relies on (they mirror ``sandbox/seed.py``; core does not
import the sandbox for them, because core talks to it over HTTP like to Visma)."""

DEMO_CLIENT_ID = "eaccounting-link-demo"
# A sandbox-only value, published in the sandbox's seed; it opens nothing outside the local sandbox.
DEMO_CLIENT_SECRET = "sandbox-demo-secret"
DEMO_PASSWORD = "Welkom2026!"
DEMO_USER_ALL_COMPANIES = "anna.dekker@demo-bureau.nl"

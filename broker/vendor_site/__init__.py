"""The vendor area of the website (``/vendor/``): a business signs up, waits for approval, then
its people manage the team, API keys and webhooks. Thin like every edge: a form, one vendors
service, a template; the rules are the services' (the same as the API's)."""

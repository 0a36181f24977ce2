"""The REST API under ``/api/v1/`` (django-ninja): the studio's own actions, validation,
budgets and ledger behind personal access tokens, so a request made by script is one made
by hand. ``endpoints`` builds the ``NinjaAPI`` (``api``), ``compose`` shapes answers and binds
bodies to the compose form, ``auth`` reads the bearer token
and keeps the rate limit, ``problems`` answers every error as RFC 9457
``application/problem+json``, ``schemas`` holds the pydantic models the OpenAPI 3.1
schema is generated from. See docs/api.md."""

"""Test settings: the project's settings with a throwaway media folder, fast hashing,
the worker run inline, and the sandbox on (it is the gateway the tests talk to)."""

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("STUDIO_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWtleS1mb3Itc3R1ZGlvLXRlc3RzLTE=")
os.environ.setdefault("STUDIO_SANDBOX_ENABLED", "true")
os.environ.setdefault("STUDIO_SANDBOX_BACKGROUND_RENDER", "false")
os.environ.setdefault("STUDIO_SANDBOX_RUN_SECONDS", "0")
# The suite's sandbox stands in for paid gateways; tests of sandbox rehearsals set it False.
os.environ.setdefault("STUDIO_SANDBOX_BILLED", "true")
os.environ.setdefault("Q_SYNC", "true")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="studio-test-media-"))
os.environ.setdefault("SQLITE_PATH", os.path.join(tempfile.mkdtemp(prefix="studio-test-db-"), "db.sqlite3"))

from project.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost", "sandbox.test", "studio.test", "other-gateway.test"]
STUDIO_SANDBOX_URL = "http://sandbox.test/sandbox"
STUDIO_PUBLIC_URL = "http://studio.test"
STATIC_ROOT = None  # whitenoise serves from the finders in tests; nothing is collected
WHITENOISE_USE_FINDERS = True
# The in-process sandbox shares the test's open transaction, which other threads cannot
# see: poll inline. test_worker runs the threaded path against a gateway without a DB.
STUDIO_POLL_CONCURRENCY = 1
#: Every audit action name must be registered (videos.audit.ACTIONS): an unknown one raises.
STUDIO_AUDIT_STRICT = True
# A file, not Django's shared in-memory default: concurrency tests need real SQLite locking
# (WAL, busy timeout, BEGIN IMMEDIATE), the same as in production.
# On PostgreSQL (DATABASE_URL), pytest-django makes and drops test_<name>, in UTF-8
# whatever the server's default (template0 takes any encoding).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.path.dirname(os.environ["SQLITE_PATH"]), "test.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"CHARSET": "UTF8", "TEMPLATE": "template0"}  # noqa: F405

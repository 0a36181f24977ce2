"""Helpers that know nothing of the studio's domain: outbound HTTP and its address
guard (``http``), media probing and posters (``media``), the key vault (``vault``),
storage (``storage``), file serving (``files``), signed links (``references``) and
streamed ZIPs (``zipstream``). Nothing here imports from ``videos`` outside ``videos.lib``
(an import-linter contract in ``pyproject.toml``)."""

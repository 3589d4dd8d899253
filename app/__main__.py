"""``python -m app``: the same entry point as the ``relaydesk`` command."""

from app.cli.main import main

raise SystemExit(main())

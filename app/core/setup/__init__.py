"""Setting an account up: provider data, detection, probe, autofix, trust, reports."""

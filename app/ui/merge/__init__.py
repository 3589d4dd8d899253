"""The mail merge window: template, list, per-row problems, preview, test, queue, progress."""

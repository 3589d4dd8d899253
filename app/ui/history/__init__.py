"""The History view and its lazy model."""

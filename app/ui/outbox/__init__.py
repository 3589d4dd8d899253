"""The Outbox view and the timer that runs it."""

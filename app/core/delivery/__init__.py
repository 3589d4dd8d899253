"""Delivery: addresses, messages, spool, outbox, sending, merge runs, history."""

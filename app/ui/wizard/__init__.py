"""Setting an account up: the one-page setup, the step-by-step assistant, sign-in."""

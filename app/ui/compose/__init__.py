"""Writing and sending a message: the compose form, its window, quick send."""

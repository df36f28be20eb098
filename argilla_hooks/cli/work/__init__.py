"""`hooks work`: the command, its configuration, the session that runs a queue worker, and its output."""

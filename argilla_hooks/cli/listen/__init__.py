"""`hooks listen`: the command, its configuration, the session webhook of --register, serving and output."""

"""The `hooks` command line: commands parse, call one client method, and print."""

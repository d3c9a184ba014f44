"""The `microexp` command line. Each subcommand is a module with `HELP`, `configure(parser)` and `run(args) -> int`."""

"""`python -m metaclip_sql ...` runs the CLI, as the `metaclip-sql` command does."""

from metaclip_sql.cli.program import main

main()

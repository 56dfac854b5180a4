"""`python -m metaclip_sql ...` runs the CLI, as the `metaclip-sql` command does."""

from metaclip_sql.cli import app

app(prog_name="metaclip-sql")

"""DuckDB as the stages use it: `sql` finds, fills and runs the versioned SQL files (recording
each file's sha256), `settings` reads DuckDB's settings, `session` opens a configured
connection."""

"""Where shards and tasks run: `local` supervises one forked process per shard (page time
limits, skips, a `heartbeat` per worker), `ray` sets Ray up one way for every stage and runs
shard jobs as Ray tasks, with the one fault hook tests use."""

#: The ways to run a stage: here (`local`) or on a Ray cluster (`ray`).
DISTRIBUTORS = ("local", "ray")

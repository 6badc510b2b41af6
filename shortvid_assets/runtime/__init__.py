"""Running shortvid: the Dagster instance on Postgres, its storage class, and in-process runs of the graph."""

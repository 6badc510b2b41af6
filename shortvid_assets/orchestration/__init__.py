"""The Dagster definitions around the assets: jobs, schedules, sensors and the executor."""

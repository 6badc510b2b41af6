"""shortvid: trending short videos in, reviewed vertical videos out, as a Dagster asset graph."""

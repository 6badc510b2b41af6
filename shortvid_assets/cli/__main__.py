"""`python -m shortvid_assets.cli ...` runs the `shortvid` command (e.g. in a fresh virtualenv without its script)."""

from shortvid_assets.cli import main

main()

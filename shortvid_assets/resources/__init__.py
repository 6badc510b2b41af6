"""One resource per external system, each with a real and an offline implementation.

The composition root (`shortvid_assets.definitions.build_resources`) picks implementations by
environment variables; this package's modules are imported one by one where they are used.
"""

"""Clients of the external systems (YouTube, Apify, OpenAI, Pexels, Google OAuth): plain classes over httpx or the SDK, no Dagster import; resources wrap them."""

from shortvid_assets.clients.apify import ApifyTikTokClient
from shortvid_assets.clients.http import ApiError, CollectionFailed, CollectionResult
from shortvid_assets.clients.youtube import QuotaBudgetReached, YouTubeShortsClient

__all__ = [
    "ApiError",
    "ApifyTikTokClient",
    "CollectionFailed",
    "CollectionResult",
    "QuotaBudgetReached",
    "YouTubeShortsClient",
]

"""The review page (`shortvid review serve`): reviewers watch videos and approve or reject them."""

from __future__ import annotations

import logging
import os

from shortvid_assets.resources.paths import ShortvidPaths
from shortvid_assets.review.app.app import ReviewAppSettings, create_app
from shortvid_assets.review.app.auth import SECRET_ENV, TOKENS_ENV, ReviewAppConfigError, Reviewers, Signer
from shortvid_assets.storage import postgres

logger = logging.getLogger(__name__)

__all__ = ["ReviewAppConfigError", "ReviewAppSettings", "create_app", "serve", "settings_from_env"]


def settings_from_env() -> ReviewAppSettings:
    """The page's settings from the environment: tokens, secret, folders and the database URL."""
    reviewers = Reviewers.parse(os.environ.get(TOKENS_ENV))
    secret = os.environ.get(SECRET_ENV, "").strip() or None
    if secret is None:
        logger.info(
            "%s is unset: sessions are signed with a random key and end when the page stops", SECRET_ENV
        )
    return ReviewAppSettings(
        paths=ShortvidPaths.from_env(),
        database_url=postgres.resolve_database_url(),
        reviewers=reviewers,
        signer=Signer.from_value(secret),
    )


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the review page with uvicorn until interrupted."""
    import uvicorn

    settings = settings_from_env()
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("the review page listens on %s: put it behind HTTPS before reviewers use it", host)
    print(f"shortvid review page on http://{host}:{port}/ (reviewers: sign in with your token)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")

"""The review page (`shortvid review serve`): reviewers watch videos and approve or reject them."""

from __future__ import annotations

import logging

from shortvid_assets import settings
from shortvid_assets.review.app.app import ReviewAppSettings, create_app
from shortvid_assets.review.app.auth import SECRET_ENV, TOKENS_ENV, ReviewAppConfigError, Reviewers, Signer
from shortvid_assets.storage import postgres
from shortvid_assets.storage.artifacts import Artifacts

logger = logging.getLogger(__name__)

__all__ = ["ReviewAppConfigError", "ReviewAppSettings", "create_app", "serve", "settings_from_env"]


def settings_from_env() -> ReviewAppSettings:
    """The page's settings from the environment: tokens, secret, folders and the database URL."""
    reviewers = Reviewers.parse(settings.text(TOKENS_ENV))
    secret = settings.text(SECRET_ENV)
    if secret is None:
        logger.info(
            "%s is unset: sessions are signed with a random key and end when the page stops", SECRET_ENV
        )
    return ReviewAppSettings(
        artifacts=Artifacts(settings.data_dir(), settings.output_dir()),
        themes_file=settings.themes_file(),
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

"""The offline trend source: realistic, deterministic sample trends for any day.

Stands in for the YouTube and TikTok APIs when no key is configured. The same date always
gives the same videos; a video can trend on consecutive days (same external id, grown
counts), as real ones do, so deduplication and velocity have something to work on.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from shortvid_assets.domain.models import Platform, Trend

if TYPE_CHECKING:  # numpy and pandas load in the load-test generator only: the sample source needs neither
    import pandas as pd

PER_PLATFORM = 50

_SUBJECTS = [
    "morning routine",
    "desk setup",
    "meal prep",
    "budget travel",
    "skincare",
    "home workout",
    "coffee hack",
    "tiny apartment",
    "study session",
    "street food",
    "camping gear",
    "sneaker clean",
    "phone photography",
    "plant care",
    "weekend hike",
    "road trip",
    "latte art",
    "city cycling",
]
_HOOKS = {
    "question": ["Why does nobody talk about {s}?", "Would you try this {s}?", "Is this the best {s} ever?"],
    "number": ["3 {s} tricks you need", "5 things I wish I knew about {s}", "I tried 7 {s} ideas"],
    "pov": ["POV: your {s} finally works", "POV: you fixed your {s} in 10 minutes"],
    "how-to": ["How to level up your {s}", "How I plan my {s} in 60 seconds"],
    "bold-claim": ["This {s} changed everything", "Stop doing your {s} like this"],
    "statement": ["My {s}, but make it aesthetic", "A quiet {s} in the city"],
}
_STYLE_WORDS = {
    "cinematic": ["cinematic", "4k", "shot on phone"],
    "talking-head": ["storytime", "my honest take", "let me explain"],
    "montage": ["day in my life", "compilation", "vlog"],
    "text-heavy": ["read this", "list", "tips"],
    "animation": ["animated", "3d animation", "cartoon"],
    "tutorial": ["tutorial", "step by step", "diy"],
}
_TAGS = [
    "fyp",
    "viral",
    "shorts",
    "trending",
    "lifehack",
    "productivity",
    "aesthetic",
    "travel",
    "fitness",
    "food",
    "tech",
    "gadgets",
    "coffee",
    "hiking",
    "outdoors",
    "selfcare",
    "cozy",
    "minimal",
]
_CREATORS = [
    "Maya Lin",
    "Jonas Berg",
    "Priya Shah",
    "Leo Martins",
    "Aiko Tanaka",
    "Sam Okafor",
    "Nora Weiss",
    "Diego Ruiz",
    "Hana Kim",
    "Omar Haddad",
    "Elena Petrova",
    "Finn O'Brien",
]
_SOUNDS = ["Espresso - remix", "Lo-fi morning", "Good Days (sped up)", "Runaway beat", "Summer haze"]
# A trend stays in the sample for this many days, growing its counts.
_LIFETIME_DAYS = 3


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _video(platform: Platform, origin_day: date, slot: int, on_day: date) -> Trend:
    """One sample video first posted on `origin_day`, as seen at the end of `on_day`."""
    rng = _rng(platform, origin_day.isoformat(), slot)
    subject = rng.choice(_SUBJECTS)
    hook_type = rng.choice(list(_HOOKS))
    style = rng.choice(list(_STYLE_WORDS))
    title = rng.choice(_HOOKS[hook_type]).format(s=subject)
    style_word = rng.choice(_STYLE_WORDS[style])
    tags = rng.sample(_TAGS, k=rng.randint(3, 6))
    creator = rng.choice(_CREATORS)
    creator_id = hashlib.sha1(creator.encode()).hexdigest()[:10]
    original_audio = rng.random() < 0.4
    posted_at = datetime.combine(origin_day, datetime.min.time(), tzinfo=UTC) + timedelta(
        minutes=rng.randint(0, 24 * 60 - 1)
    )
    seen_at = datetime.combine(on_day, datetime.max.time().replace(microsecond=0), tzinfo=UTC)
    age_h = max((seen_at - posted_at).total_seconds() / 3600, 0.1)
    popularity = rng.lognormvariate(10.5, 1.2)
    views = int(popularity * age_h**0.7)
    likes = int(views * rng.uniform(0.03, 0.12))
    comments = int(likes * rng.uniform(0.01, 0.08))
    shares = int(likes * rng.uniform(0.02, 0.2))
    if platform == "youtube":
        external_id = hashlib.sha1(f"yt{origin_day}{slot}".encode()).hexdigest()[:11]
        video_url = f"https://www.youtube.com/shorts/{external_id}"
        thumbnail_url = f"https://i.ytimg.com/vi/{external_id}/hqdefault.jpg"
        shares = 0  # the YouTube Data API does not report shares
    else:
        external_id = str(
            7_300_000_000_000_000_000
            + int(hashlib.sha1(f"tt{origin_day}{slot}".encode()).hexdigest()[:12], 16)
        )
        handle = creator.lower().replace(" ", "").replace("'", "")
        video_url = f"https://www.tiktok.com/@{handle}/video/{external_id}"
        thumbnail_url = f"https://p16-sign.tiktokcdn.com/obj/{external_id}.jpeg"
    return Trend(
        platform=platform,
        external_id=external_id,
        title=f"{title} #{tags[0]}",
        description=f"{style_word} | {subject} " + " ".join(f"#{t}" for t in tags[1:]),
        hashtags=tags,
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        duration_s=round(rng.triangular(7, 59, 22), 1),
        creator_name=creator,
        creator_id=creator_id,
        sound_name=f"original sound - {creator}" if original_audio else rng.choice(_SOUNDS),
        video_url=video_url,
        thumbnail_url=thumbnail_url,
        posted_at=posted_at,
        collected_at=seen_at,
    )


def sample_trends(platform: Platform, day: date, limit: int = PER_PLATFORM) -> list[Trend]:
    """The `limit` sample videos trending on `platform` on `day`, most viewed first.

    Like a paginated API, the raw answer repeats a few items; callers deduplicate.
    """
    candidates = [
        _video(platform, day - timedelta(days=age), slot, day)
        for age in range(_LIFETIME_DAYS)
        for slot in range(limit)
    ]
    candidates.sort(key=lambda trend: trend.views, reverse=True)
    top = candidates[:limit]
    return top + top[:3]  # page overlap, as real pagination sometimes returns


def synthetic_trends_frame(rows: int, day: date, *, seed: int = 0, repeat_share: float = 0.2) -> pd.DataFrame:
    """`rows` synthetic snapshot rows (TREND-3 columns) for load tests, built with numpy, not row by row.

    Videos are posted in the 36 h before the end of `day` and observed at its end; `repeat_share` of the
    rows are earlier snapshots (12 h before) of the same videos, so deduplication and recent velocity
    have work to do. Titles, descriptions and sounds draw on the sample's vocabulary.
    """
    import numpy as np
    import pandas as pd

    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    rng = np.random.default_rng(seed)
    repeats = int(rows * repeat_share)
    videos = rows - repeats
    platform = rng.choice(np.array(["youtube", "tiktok"], dtype=object), size=videos)
    external_id = np.char.add("v", np.arange(videos).astype(str)).astype(object)
    subjects = rng.choice(np.array(_SUBJECTS, dtype=object), size=videos)
    templates = np.array([t for options in _HOOKS.values() for t in options], dtype=object)
    titles = np.array(
        [t.format(s=s) for t, s in zip(rng.choice(templates, size=videos), subjects, strict=True)],
        dtype=object,
    )
    style_words = np.array([w for words in _STYLE_WORDS.values() for w in words] + ["", ""], dtype=object)
    descriptions = rng.choice(style_words, size=videos) + " | " + subjects
    tag_pool = np.array(_TAGS, dtype=object)
    tag_counts = rng.integers(2, 6, size=videos)
    hashtags = [list(tag_pool[rng.choice(len(_TAGS), size=k, replace=False)]) for k in tag_counts]
    creators = rng.choice(np.array(_CREATORS, dtype=object), size=videos)
    sounds = np.where(
        rng.random(videos) < 0.4,
        "original sound - " + creators,
        rng.choice(np.array(_SOUNDS, dtype=object), videos),
    )
    end = pd.Timestamp(datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
    posted_at = end - pd.to_timedelta(rng.integers(60, 36 * 3600, size=videos), unit="s")
    views = (rng.lognormal(10.5, 1.2, size=videos)).astype(np.int64)
    likes = (views * rng.uniform(0.03, 0.12, size=videos)).astype(np.int64)
    comments = (likes * rng.uniform(0.01, 0.08, size=videos)).astype(np.int64)
    shares = np.where(
        platform == "youtube", 0, (likes * rng.uniform(0.02, 0.2, size=videos)).astype(np.int64)
    )
    latest = pd.DataFrame(
        {
            "platform": platform,
            "external_id": external_id,
            "title": titles,
            "description": descriptions,
            "hashtags": hashtags,
            "views": views,
            "likes": likes,
            "comments": comments,
            "shares": shares,
            "duration_s": np.round(rng.triangular(7, 22, 59, size=videos), 1),
            "creator_name": creators,
            "creator_id": creators,
            "sound_name": sounds,
            "video_url": "https://example.com/" + external_id,
            "thumbnail_url": "https://example.com/t/" + external_id,
            "posted_at": posted_at,
            "collected_at": end - pd.Timedelta(seconds=1),
        }
    )
    latest.insert(latest.columns.get_loc("duration_s") + 1, "content_kind", "video")
    earlier = latest.sample(n=repeats, random_state=seed, replace=repeats > videos).copy()
    earlier["collected_at"] = earlier["collected_at"] - pd.Timedelta(hours=12)
    earlier["posted_at"] = earlier[["posted_at", "collected_at"]].min(axis=1)
    for column in ("views", "likes", "comments", "shares"):
        earlier[column] = (earlier[column] * 0.6).astype(np.int64)
    return pd.concat([latest, earlier], ignore_index=True)

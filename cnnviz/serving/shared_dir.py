"""Where the state that outlives a request lives: the shared folders.

Streamlit keeps a session in the memory of one process. Everything a later request, another
process or another person's link needs is therefore kept on disk, in one folder per store:

==========================  ======================  ==========================================
variable                    under CNNVIZ_SHARED_DIR  holds
==========================  ======================  ==========================================
``CNNVIZ_UPLOADS``          ``uploads``             checkpoints named by ``weights=upload:``
``CNNVIZ_SHARED_IMAGES``    ``images``              photos named by ``image=upload:``
``CNNVIZ_USER_MODELS``      ``user_models``         saved models, their sidecars and owners
``CNNVIZ_DISK_CACHE``       ``cache``               feature visualisations, example scores
``CNNVIZ_CLASSES``          ``classes.sqlite3``     live classes and lesson drafts (SQLite)
``CNNVIZ_TRAININGS``        ``trainings``           markers of trainings in flight
==========================  ======================  ==========================================

A store's own variable wins; else, with ``CNNVIZ_SHARED_DIR`` set, the store is the sub-folder
above of that one folder (what several replicas mount in common: deploy/README.md); else the
store keeps its single-machine default (its module says which). Per-process caches (models,
captures, pictures: :mod:`cnnviz.serving.cache`) are not here: a miss rebuilds them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT_ENV", "STORES", "store_path"]

ROOT_ENV = "CNNVIZ_SHARED_DIR"
# store variable -> its place under CNNVIZ_SHARED_DIR (the table above)
STORES = {
    "CNNVIZ_UPLOADS": "uploads",
    "CNNVIZ_SHARED_IMAGES": "images",
    "CNNVIZ_USER_MODELS": "user_models",
    "CNNVIZ_DISK_CACHE": "cache",
    "CNNVIZ_CLASSES": "classes.sqlite3",
    "CNNVIZ_TRAININGS": "trainings",
}


def store_path(env: str) -> Path | None:
    """The configured place of store ``env`` (a key of :data:`STORES`): its own variable,
    else its place under ``CNNVIZ_SHARED_DIR``; None when neither is set (the caller's
    single-machine default applies)."""
    own = os.environ.get(env)
    if own:
        return Path(own)
    root = os.environ.get(ROOT_ENV)
    return Path(root) / STORES[env] if root else None

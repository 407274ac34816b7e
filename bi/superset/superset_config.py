"""Apache Superset's configuration for ``make bi`` (``pingan bi``).

Superset reads this file through ``SUPERSET_CONFIG_PATH``, which
``pingan_transforms.bi.superset`` sets together with ``PINGAN_SUPERSET_HOME`` (the
state directory's ``superset/``: metadata database, secret key, logs). It runs in its
own venv (.venv-bi) and imports nothing of the pipeline's. The dashboard, its charts,
datasets and the warehouse connection are not configured here: they are provisioned
from ``bi/superset/assets/`` through Superset's assets import.
"""

import os
from pathlib import Path

_HOME = Path(os.environ["PINGAN_SUPERSET_HOME"])

# generated once by `pingan bi` (mode 0600): it encrypts the stored warehouse password
SECRET_KEY = (_HOME / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"
DATA_DIR = str(_HOME)

# the office reads Chinese; English stays one click away
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}

# listens on 127.0.0.1 only (pingan bi); no mail, no thumbnails, no Celery
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "ALERT_REPORTS": False, "THUMBNAILS": False}
RATELIMIT_STORAGE_URI = "memory://"
# no internet here: the map draws its points without a tile server's background
MAPBOX_API_KEY = ""
# SQL Lab answers within the request (no Celery workers)
SQLLAB_ASYNC_TIME_LIMIT_SEC = 60
SUPERSET_WEBSERVER_TIMEOUT = 120

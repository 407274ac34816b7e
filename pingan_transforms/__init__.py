"""平安指数 pipeline: extract, load, score, publish.

Every Airflow task in ``dags/`` calls exactly one function of this package; the
functions live in small modules by concern (``extract``, ``load``, ``publish``,
``warehouse``) and take their configuration from :mod:`pingan_transforms.settings`.
The simulated source systems of the demo and the tests are a package of their own,
``pingan_simulate``, which only the CLI's ``demo`` and ``simulate`` commands import.
"""

__version__ = "0.1.0"

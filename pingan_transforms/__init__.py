"""平安指数 pipeline: extract, load, score, publish.

Every Airflow task in ``dags/`` calls exactly one function of this package; the
functions live in small modules by concern (``extract``, ``load``, ``simulate``,
``publish``, ``warehouse``) and take their configuration from
:mod:`pingan_transforms.settings`.
"""

__version__ = "0.1.0"

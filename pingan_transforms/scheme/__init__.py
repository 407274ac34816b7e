"""Indicator schemes: the YAML files in ``schemes/``, validated, shown and loaded.

A scheme says how a month of metrics becomes scores, grades, stars, warnings and
ranks (``schemes/README.md`` is the format's spec). Scoring itself happens in dbt
from the ``schemes.*`` tables; this package only guarantees that what reaches those
tables is complete and consistent, so the SQL can trust it.
"""

from pingan_transforms.scheme.catalogue import Catalogue, Metric, load_catalogue
from pingan_transforms.scheme.model import Scheme
from pingan_transforms.scheme.regions import RegionMaster, default_region_files, read_regions
from pingan_transforms.scheme.validate import Problem, SchemeError, load_scheme, load_scheme_files

__all__ = [
    "Catalogue",
    "Metric",
    "Problem",
    "RegionMaster",
    "Scheme",
    "SchemeError",
    "default_region_files",
    "load_catalogue",
    "load_scheme",
    "load_scheme_files",
    "read_regions",
]

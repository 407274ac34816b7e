"""The warehouse: an embedded PostgreSQL by default, any PostgreSQL by configuration."""

from pingan_transforms.warehouse.connection import (
    WarehouseTarget,
    connect,
    ensure_database,
    prepare_warehouse,
    resolve_target,
)

__all__ = ["WarehouseTarget", "connect", "ensure_database", "prepare_warehouse", "resolve_target"]

"""Piccolo app config for the registry (migrations live in registry/piccolo_migrations/)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["registry.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)

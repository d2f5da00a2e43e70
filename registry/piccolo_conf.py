"""Piccolo's configuration module (PICCOLO_CONF=registry.piccolo_conf), used by migrations."""

from piccolo.conf.apps import AppRegistry

from registry.db import engine_for
from registry.settings import Settings

DB = engine_for(Settings.from_env())

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])

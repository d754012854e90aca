"""The `emr:` settings section, as the deploy code reads it."""

from __future__ import annotations

from coretelecoms.settings import EmrSettings, Settings

__all__ = ["EmrSettings", "emr_settings"]


def emr_settings(settings: Settings) -> EmrSettings:
    return settings.emr

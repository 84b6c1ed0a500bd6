"""What every feature stands on: database, extensions, permissions, i18n helpers."""

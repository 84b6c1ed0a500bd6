"""The JSON API (/api/v1): thin, it calls the same services as the pages."""

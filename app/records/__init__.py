"""Personal data and public records: retention rules (gallring) and their runs."""

"""The one write path for statements, its audit log, and scheduled publication."""

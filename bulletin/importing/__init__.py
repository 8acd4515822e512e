"""Statement files read and imported, through the one write path."""

"""The public site: reader pages, feeds, the JSON API and sync."""

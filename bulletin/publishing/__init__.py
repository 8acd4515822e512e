"""The public site as files: pages, feeds, sitemaps, the worker and the sync files, rendered by the app itself."""

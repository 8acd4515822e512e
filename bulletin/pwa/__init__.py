"""The installable app: the service worker, the manifest, the offline pages."""

"""Bulletin's entry point: ``flask --app app run`` and the WSGI ``app`` for gunicorn."""

from bulletin import create_app

app = create_app()

"""The public site as files: which files it is, written to the folder nginx serves, kept current.

:mod:`fileset` names the files and renders them through the app;
:mod:`folder` writes them whole with their compressed siblings;
:mod:`publisher` keeps the folder current, one publisher at a time, driven
by the change log; :mod:`commands` are ``publish`` and ``publish-due``;
:mod:`export` writes the same files, and what a standalone site needs
besides, as a static export; :mod:`hosts` the headers hosts should send.
"""

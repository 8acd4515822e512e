"""Signed documents: what a publisher signs, how, with which keys, and how a device checks them.

Pure: no Flask, no database, no other Bulletin package. The shape follows The
Update Framework: an offline *root* key certifies expiring *online* keys,
which sign the records devices store. Every signed document is an envelope
(:mod:`envelopes`) around canonical JSON (:mod:`canonical`) whose ``type``
the verifier checks (:mod:`verifier`).
"""

"""Build outputs: asset bundles, icons, atomic writes and their pre-compressed copies."""

"""Language plug-ins (placeholder docstring, replaced below)."""

"""Tropes: the versioned taxonomy, the trained classifier head, custom tropes."""

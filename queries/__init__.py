"""Read-side logic: datasets, search, statistics. Pure functions over a Store."""

"""The edges: the HTTP service, its job worker and the command line."""

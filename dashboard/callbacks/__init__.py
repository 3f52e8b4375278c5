"""Callbacks, one module per page. Importing a module registers its callbacks."""

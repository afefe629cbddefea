"""One construct per capability of the Steward stack, each generated from ``shared.catalogue``."""

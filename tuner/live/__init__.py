"""Talking to real caches: throwaway servers on loopback (``servers``), and what compares a model with them."""

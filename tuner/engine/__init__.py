"""The replay engine: the compiled request loop and its Python entry point."""

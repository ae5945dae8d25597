"""The demo: a simulated fleet on loopback and a chat sink, apart from the production packages."""

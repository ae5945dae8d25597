"""The web console (网络智能运维平台): aiohttp inside the agent's loop, Jinja2 pages, local accounts."""

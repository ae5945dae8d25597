"""The ground floor: the types and rules of time every package shares. Imports nothing of yunwei."""

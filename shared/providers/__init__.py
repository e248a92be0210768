"""Clients for the providers' REST APIs (httpx), one module per provider."""

"""Built-in sandbox providers: deterministic, offline, built on real reference data.

They make the product useful without provider keys. Every answer they give is
marked DATA_SOURCE_SANDBOX and provider "sandbox"; none is a live price.
"""

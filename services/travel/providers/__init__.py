"""Live provider adapters over plain HTTP (httpx), each speaking its provider's documented API."""

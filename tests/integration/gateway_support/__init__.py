"""Test helpers for the gateway tests (test-only proto, fake upstreams)."""

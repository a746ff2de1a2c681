"""Test harness: the real parts the tests run against (emulator, news site, servers)."""

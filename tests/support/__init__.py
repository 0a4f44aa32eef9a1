"""Helpers the tests share: a real store server on an ephemeral port."""

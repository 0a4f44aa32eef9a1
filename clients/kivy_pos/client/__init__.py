"""The till's plain gRPC client layer (no Kivy): deadlines, safe retries, clear errors."""

from clients.kivy_pos.client.errors import ErrorInfo, Offline, ServerError
from clients.kivy_pos.client.store_client import CallPolicy, StoreClient, payment

__all__ = ["CallPolicy", "ErrorInfo", "Offline", "ServerError", "StoreClient", "payment"]

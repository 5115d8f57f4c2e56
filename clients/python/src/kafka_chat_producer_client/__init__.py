"""Reference client for kafka-chat-producer (docs/clients.md)."""

from .client import (
    Ack,
    Client,
    ClientClosed,
    ConnectionFailed,
    DeliveryFailed,
    HandshakeRefused,
    MessageRejected,
)

__all__ = [
    "Ack",
    "Client",
    "ClientClosed",
    "ConnectionFailed",
    "DeliveryFailed",
    "HandshakeRefused",
    "MessageRejected",
]

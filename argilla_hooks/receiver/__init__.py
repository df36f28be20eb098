"""The webhook receiver: verify Argilla deliveries, then run handlers and forwards once per event (`hooks listen`)."""

from argilla_hooks.receiver.app import ReceiverApp, create_app
from argilla_hooks.receiver.handlers import Delivery, Handler, on
from argilla_hooks.receiver.loader import HandlerLoadError, load_handler
from argilla_hooks.receiver.report import DeliveryReport, ForwardResult, HandlerResult
from argilla_hooks.receiver.run import call_handler
from argilla_hooks.receiver.verify import VerificationError, Verifier, sign

__all__ = [
    "Delivery",
    "DeliveryReport",
    "ForwardResult",
    "Handler",
    "HandlerLoadError",
    "HandlerResult",
    "ReceiverApp",
    "VerificationError",
    "Verifier",
    "call_handler",
    "create_app",
    "load_handler",
    "on",
    "sign",
]

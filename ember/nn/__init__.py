"""Neural-network building blocks: Module, layers, losses, init, functional."""
from .parameter import Buffer, Parameter  # noqa: F401

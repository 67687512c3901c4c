"""Callbacks: the scheduler that dials the store's jobs through the engine port, and the
missed-call intake (docs/callbacks.md)."""

from clinicall.controller.callbacks.scheduler import CallbackScheduler, SchedulerSettings

__all__ = ["CallbackScheduler", "SchedulerSettings"]

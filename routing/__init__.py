"""Routing: triage (which queue a menu choice leads to), business hours, and the callback
policy (docs/callbacks.md).  Pure logic, no I/O."""

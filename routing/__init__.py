"""Routing: triage (which queue a menu choice leads to) and business hours.  Pure logic, no I/O."""

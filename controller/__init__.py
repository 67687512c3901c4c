"""The controller: the engine port and its neutral facts, the controller that runs the IVR for
every call an engine hands over, the call account, and one adapter package per engine
(docs/architecture.md, "The engine boundary")."""

"""The IVR: an engine-neutral menu interpreter that talks only to :class:`ivr.port.CallPort`."""

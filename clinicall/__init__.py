"""clinicall: the command line, settings, the store and the wiring of the parts."""

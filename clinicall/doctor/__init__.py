"""``clinicall doctor``: checks a live installation and says what to fix, one line per check.

Each check (:mod:`.checks`) answers OK or FAIL with the one thing to do; the drift checks
compare what Asterisk has loaded (and what its config folder holds) with what the clinic config
generates (:mod:`.drift`, pure), and show the difference.  Nothing is changed anywhere: the
only write is one ``DOCTOR`` line that Asterisk itself appends to queue_log, to see it written,
and the FastAGI check (:mod:`.fastagi`) has Asterisk run a Local channel that calls no one and
that the call account leaves out.
"""
